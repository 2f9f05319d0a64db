"""Synthetic contacts and CIN referrals (ssd_contacts, ssd_cin_episodes).

A contact becomes a referral about a third of the time; referrals carry the SSD
outcome JSON with every key present, close (or not) with a CIN reason, and
RC1/RC2 closures stay only where nothing happens to the child afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from deploy.synth import codes
from deploy.synth.case_management_base import below, between, flags, pick, poisson, random_day

# Rates (per child, or shares of rows). See the module docstring of ``codes`` for the caveats.
_CONTACTS_PER_CHILD = 1.5
_REFERRAL_SHARE_OF_CONTACTS = 1 / 3  # so ~0.5 referrals per child
_REFERRAL_NFA_RATE = 0.10
_CLOSED_RATE = 0.5  # of all referrals, NFA included (NFA referrals close at once)
_UNRECORDED_FLAGS_RATE = 0.03  # outcome JSON whose secondary flags were never recorded


@dataclass
class Referral:
    row: dict[str, Any]
    closed_on: date | None


class Referrals:
    """Contacts and referrals; mixed into the generator, which provides ``o``, ``ceiling``,
    ``social_workers``, ``next_contact``, ``next_referral`` and ``_updated``."""

    # -- contacts and referrals

    def _contacts_and_referrals(
        self, person_id: str, first_day: date
    ) -> tuple[list[dict[str, Any]], list[Referral]]:
        rng = self.rng
        contact_rows: list[dict[str, Any]] = []
        referrals: list[Referral] = []
        count = poisson(rng, _CONTACTS_PER_CHILD)
        days = sorted(random_day(rng, first_day, self.o.end) for _ in range(count))
        for day in days:  # in date order, so a child's ids increase with time
            contact, referral = self._contact(person_id, day, None, rng, None)
            contact_rows.append(contact)
            if referral is not None:
                referrals.append(referral)
        return contact_rows, referrals

    def _contact(
        self,
        person_id: str,
        day: date,
        source: str | None,
        rng: random.Random,
        becomes_referral: bool | None,
    ) -> tuple[dict[str, Any], Referral | None]:
        """A contact on ``day``; a referral too when it becomes one (drawn unless given)."""
        at = datetime.combine(day, time(self._contact_hour(rng), below(rng, 60), below(rng, 60)))
        source = source or codes.REFERRAL_SOURCES.pick(rng)
        if becomes_referral is None:
            becomes_referral = rng.random() < _REFERRAL_SHARE_OF_CONTACTS
        referral = None
        if becomes_referral:
            referral = self._referral(person_id, day, source, rng)
            yes = {"NEW_REFERRAL_FLAG"}
            if rng.random() < 0.1:
                yes.add("CP_ENQUIRY_FLAG")
        else:
            yes = {codes.CONTACT_OUTCOMES_WITHOUT_REFERRAL.pick(rng)}
        unrecorded = rng.random() < _UNRECORDED_FLAGS_RATE
        updated = min(at + timedelta(seconds=below(rng, 3 * 86_400)), self.ceiling)
        row = {
            "cont_contact_id": f"CT{self.next_contact:08d}",
            "cont_person_id": person_id,
            "cont_contact_date": at,
            "cont_contact_source_code": source,
            "cont_contact_source_desc": codes.REFERRAL_SOURCE_DESCRIPTIONS[source],
            "cont_contact_outcome_json": flags(
                codes.CONTACT_OUTCOME_KEYS, yes, unrecorded=unrecorded
            ),
            "last_updated": updated,
        }
        self.next_contact += 1
        return row, referral

    @staticmethod
    def _contact_hour(rng: random.Random) -> int:
        """Mostly office hours; police and out-of-hours contacts at any time."""
        return between(rng, 8, 18) if rng.random() < 0.8 else below(rng, 24)

    def _referral(
        self, person_id: str, contact_day: date, source: str, rng: random.Random
    ) -> Referral:
        end = self.o.end
        referral_date = min(contact_day + timedelta(days=pick(rng, (0, 0, 0, 0, 1, 2, 3))), end)
        need = codes.PRIMARY_NEEDS.pick(rng)
        nfa = rng.random() < _REFERRAL_NFA_RATE
        close_date, close_reason = None, None
        if nfa:
            close_date, close_reason = referral_date, "RC8"
        elif rng.random() < (_CLOSED_RATE - _REFERRAL_NFA_RATE) / (1 - _REFERRAL_NFA_RATE):
            close_reason = codes.CLOSE_REASONS.pick(rng)
            days = between(rng, 5, 45) if close_reason in ("RC8", "RC9") else between(rng, 20, 400)
            close_date = referral_date + timedelta(days=days)
            if close_date > end:
                close_date = random_day(rng, referral_date, end)
        team = self._team(need, nfa, rng)
        worker = f"SW{codes.REFERRAL_TEAMS.index(team) + 1}{below(rng, self.social_workers):05d}"
        row = {
            "cine_referral_id": f"R{self.next_referral:07d}",
            "cine_person_id": person_id,
            "cine_referral_date": referral_date,
            "cine_cin_primary_need_code": need,
            "cine_referral_source_code": source,
            "cine_referral_source_desc": codes.REFERRAL_SOURCE_DESCRIPTIONS[source],
            "cine_referral_outcome_json": self._referral_outcome(nfa, rng),
            "cine_referral_nfa": "Y" if nfa else "N",
            "cine_close_reason": close_reason,
            "cine_close_date": close_date,
            "cine_referral_team": team,
            "cine_referral_worker_id": worker,
            "last_updated": self._updated(close_date or referral_date, max_lag_days=30, rng=rng),
        }
        self.next_referral += 1
        return Referral(row=row, closed_on=close_date)

    @staticmethod
    def _team(need: str, nfa: bool, rng: random.Random) -> str:
        if nfa:
            return "MASH"
        if need == "N2" and rng.random() < 0.7:
            return "Disabled Children's Team"
        return pick(rng, codes.REFERRAL_TEAMS[1:6])

    @staticmethod
    def _referral_outcome(nfa: bool, rng: random.Random) -> str:
        if nfa:
            yes = {"NFA_FLAG"}
        else:
            yes = (
                {"SINGLE_ASSESSMENT_FLAG"} if rng.random() < 0.95 else {"OTHER_OUTCOMES_EXIST_FLAG"}
            )
            if rng.random() < 0.2:
                yes.add("STRATEGY_DISCUSSION_FLAG")
                if rng.random() < 0.4:
                    yes.add("CP_CONFERENCE_FLAG")
            for key, rate in (
                ("CLA_REQUEST_FLAG", 0.02),
                ("PRIVATE_FOSTERING_FLAG", 0.005),
                ("CP_TRANSFER_IN_FLAG", 0.005),
                ("CARE_LEAVER_FLAG", 0.003),
                ("NON_AGENCY_ADOPTION_FLAG", 0.002),
            ):
                if rng.random() < rate:
                    yes.add(key)
        unrecorded = rng.random() < _UNRECORDED_FLAGS_RATE
        return flags(codes.REFERRAL_OUTCOME_KEYS, yes, unrecorded=unrecorded)

    def _settle_terminal_closures(
        self,
        referrals: list[Referral],
        contact_rows: list[dict[str, Any]],
        episodes: list[dict[str, Any]],
        upn_allocated: date | None,
    ) -> date | None:
        """Keep RC1 (adopted) / RC2 (died) only where nothing happens afterwards.

        Otherwise the closure becomes RC7. Returns the death date for RC2.
        """
        death_date = None
        for referral in referrals:
            row = referral.row
            if row["cine_close_reason"] not in codes.TERMINAL_CLOSE_REASONS:
                continue
            closed = referral.closed_on
            assert closed is not None
            others = [r for r in referrals if r is not referral]
            later = (
                any(r.closed_on is None or r.closed_on > closed for r in others)
                or any(r.row["cine_referral_date"] > closed for r in others)
                or any(c["cont_contact_date"].date() > closed for c in contact_rows)
                or (upn_allocated is not None and upn_allocated > closed)
                or any(
                    e["earl_episode_end_date"] is None or e["earl_episode_end_date"] > closed
                    for e in episodes
                )
            )
            if later or death_date is not None:
                row["cine_close_reason"] = "RC7"
            elif row["cine_close_reason"] == "RC2":
                death_date = closed
        return death_date
