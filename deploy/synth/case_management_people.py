"""Synthetic people: the children (aged 0-17 at ``end``), with their identifiers, home
address and early-help episodes, and the young people aged 17-21 the LA also knows; then,
through the area generators, everything that follows for each of them.

People, contacts, referrals and early-help episodes are drawn from the generator's
own ``random.Random(seed)``; everything that follows from a second stream in the
context (``Context.rng``), so adding a kind of row never changes the rows the first
stream gives.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from connectors.case_management import ssd
from deploy.synth import case_management_codes as sc_codes
from deploy.synth import case_management_early_help as early_help
from deploy.synth import case_management_looked_after as looked_after
from deploy.synth import case_management_social_care as social_care
from deploy.synth import codes
from deploy.synth.case_management_base import (
    MAX_CHILDREN,
    Child,
    Context,
    SynthError,
    age_on,
    below,
    between,
    pick,
    poisson,
    random_day,
    years_before,
)
from deploy.synth.case_management_referrals import Referral, Referrals
from deploy.synth.case_management_voice import sharing_preference
from schemas.identifiers import synthetic_nhs_number, synthetic_upn

if TYPE_CHECKING:
    from deploy.synth.case_management import SynthOptions

# Rates (per child, or shares of rows). See the module docstring of ``codes`` for the caveats.
_EARLY_HELP_PER_CHILD = 0.3
_NO_NHS_NUMBER_RATE = 0.02
_SEND_RATE = 0.04
_UNKNOWN_DAY_RATE = 0.01
_EARLY_HELP_ENDED_RATE = 0.8  # the rest stay open; so do those that would end after ``end``
_MONTHLY_SWEEP_RATE = 0.10  # rows last touched by the 02:00 sweep on the 1st of a month
_LOOKED_AFTER_BEFORE_RATE = 0.006  # looked after since before ``start`` (the stock)
_PREFERENCE_RATE = 0.03  # of children known to social care or early help
_DISABLED_KNOWN_RATE = 0.12  # children with a referral who have a recorded disability
_DISABLED_RATE = 0.03
_MISTYPED_NHS_RATE = 0.4  # of former children
_SCHOOL_AGE = range(4, 18)
_MAX_AGE = 17
_CHILDREN_PER_SCHOOL = 250
_CHILDREN_PER_SOCIAL_WORKER = 35
_CHILDREN_PER_EARLY_HELP_WORKER = 60


class _UpnAllocator:
    """Unique UPNs: a serial per (establishment, allocation year), like a school's MIS."""

    def __init__(self, rng: random.Random, la_code: str, children: int) -> None:
        schools = min(7000, max(20, children // _CHILDREN_PER_SCHOOL))
        self._la_code = la_code
        self._establishments = sorted(rng.sample(range(1000, 8000), schools))
        self._next_serial: dict[tuple[int, int], int] = {}

    def allocate(self, rng: random.Random, year2: int) -> str:
        start = below(rng, len(self._establishments))
        for step in range(len(self._establishments)):
            establishment = self._establishments[(start + step) % len(self._establishments)]
            serial = self._next_serial.get((establishment, year2), 1)
            if serial <= 999:
                self._next_serial[(establishment, year2)] = serial + 1
                return synthetic_upn(self._la_code, establishment, year2, serial)
        raise SynthError("ran out of synthetic UPN serials for one allocation year")


class Generator(Referrals):
    """People, contacts, referrals and early-help episodes from ``rng``; everything that
    follows (through ``ctx``) from a second stream, so adding a kind of row never changes
    the rows the first stream gives."""

    def __init__(self, options: SynthOptions, tables: Sequence[Table]) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.ctx = Context(
            rng=random.Random(f"{options.seed}:social-care"),
            start=options.start,
            end=options.end,
            batch={table.name: [] for table in tables},
        )
        self.ceiling = datetime.combine(options.end, time(23, 59, 59))
        self.earliest_dob = years_before(options.end, _MAX_AGE + 1) + timedelta(days=1)
        # An affine permutation of the synthetic NHS index space: distinct children,
        # distinct numbers, without handing them out in order.
        self.nhs_step = self._coprime_step(MAX_CHILDREN)
        self.nhs_offset = self.rng.randrange(MAX_CHILDREN)
        self.upns = _UpnAllocator(self.rng, options.la_code, options.children)
        self.social_workers = max(2, options.children // _CHILDREN_PER_SOCIAL_WORKER)
        self.early_help_workers = max(2, options.children // _CHILDREN_PER_EARLY_HELP_WORKER)
        self.families = early_help.Families()
        self.next_contact = 1
        self.next_referral = 1
        self.next_episode = 1
        self.next_link = 1

    def _coprime_step(self, modulus: int) -> int:
        while True:
            step = self.rng.randrange(modulus // 3, modulus)
            if math.gcd(step, modulus) == 1:
                return step

    # -- timestamps

    def _updated(
        self, since: date, *, max_lag_days: int | None = None, rng: random.Random | None = None
    ) -> datetime:
        """A ``last_updated`` at or after ``since`` (and after ``start``), never after ``end``."""
        rng = rng or self.rng
        lo = max(since, self.o.start)
        hi = self.o.end if max_lag_days is None else min(self.o.end, lo + timedelta(max_lag_days))
        if rng.random() < _MONTHLY_SWEEP_RATE:
            sweep = datetime.combine(date(lo.year + lo.month // 12, lo.month % 12 + 1, 1), time(2))
            if sweep <= self.ceiling:
                return sweep
        slot = below(rng, 36)
        day = random_day(rng, lo, hi)
        return datetime.combine(day, time(9 + slot // 4, (slot % 4) * 15))

    def _nhs_number(self, index: int) -> str:
        return synthetic_nhs_number((self.nhs_step * index + self.nhs_offset) % MAX_CHILDREN)

    # -- one child

    def child(self, index: int, batch: dict[str, list[dict[str, Any]]]) -> None:
        rng, o, ctx = self.rng, self.o, self.ctx
        person_id = f"C{index + 1:07d}"
        dob = random_day(rng, self.earliest_dob, o.end)
        if rng.random() < _UNKNOWN_DAY_RATE and dob.replace(day=15) <= o.end:
            dob = dob.replace(day=15)
        first_day = max(dob, o.start)
        upn = self._upn(dob) if age_on(dob, o.end) in _SCHOOL_AGE else None
        kid = Child(person_id, dob)

        contact_rows, referrals = self._contacts_and_referrals(person_id, first_day)
        episodes = self._early_help(person_id, first_day)
        early_help.re_referrals(ctx, kid, episodes)
        for day in early_help.step_ups(episodes):  # stepped up: a contact and referral follow
            later = day + timedelta(days=below(ctx.rng, 15))
            if later <= o.end:
                contact, referral = self._contact(person_id, later, "5D", ctx.rng, True)
                contact_rows.append(contact)
                referrals.append(referral)
        death_date = self._settle_terminal_closures(
            referrals, contact_rows, episodes, upn[1] if upn else None
        )
        kid.death_date = death_date

        nhs_number = self._nhs_number(index) if rng.random() >= _NO_NHS_NUMBER_RATE else None
        batch[ssd.person.name].append(self._person_row(person_id, dob, death_date, nhs_number, upn))
        batch[ssd.linked_identifiers.name].extend(self._link_rows(person_id, dob, nhs_number, upn))
        batch[ssd.address.name].append(self._address_row(index, person_id, dob, death_date))
        referred = {r.row["cine_referral_date"] for r in referrals}
        for contact in contact_rows:  # a local source code the extract did not translate
            if contact["cont_contact_date"].date() not in referred and ctx.corrupt():
                contact["cont_contact_source_code"] = "11"
                ctx.record_bad(
                    ssd.contacts.name, contact["cont_contact_id"], "referral_source.code_list"
                )
        batch[ssd.contacts.name].extend(contact_rows)
        batch[ssd.cin_episodes.name].extend(r.row for r in referrals)
        batch[ssd.early_help_episodes.name].extend(episodes)
        self._disabilities(kid, bool(referrals))
        self._what_follows(kid, referrals, episodes)

    def _disabilities(self, kid: Child, known: bool) -> None:
        """CIN disabilities: more often recorded for children known to social care."""
        ctx = self.ctx
        if not ctx.chance(_DISABLED_KNOWN_RATE if known else _DISABLED_RATE):
            return
        codes_ = {sc_codes.DISABILITIES.pick(ctx.rng) for _ in range(1 + (ctx.rng.random() < 0.3))}
        for code in sorted(codes_):
            ctx.add(
                ssd.disability.name,
                {
                    "disa_table_id": ctx.next_int("disa"),
                    "disa_person_id": kid.person_id,
                    "disa_disability_code": code,
                    "last_updated": ctx.updated(max(kid.dob, self.o.start), max_lag_days=700),
                },
            )

    def _what_follows(
        self, kid: Child, referrals: list[Referral], episodes: list[dict[str, Any]]
    ) -> None:
        """Assessments to plans, care, early help outcomes, voice and preferences."""
        ctx = self.ctx
        if episodes:
            family = self.families.family(ctx, kid)
            early_help.complete(ctx, kid, family, episodes)
        if kid.death_date is not None:
            return  # what follows a referral that ended in a death is left out
        looked_after_from: tuple[date, str | None] | None = None
        for referral in sorted(referrals, key=lambda r: r.row["cine_referral_date"]):
            if social_care.follow_referral(ctx, kid, referral.row) and looked_after_from is None:
                day = referral.row["cine_referral_date"] + timedelta(days=below(ctx.rng, 30))
                if day <= self.o.end:
                    looked_after_from = (day, referral.row["cine_referral_id"])
        if looked_after_from is None and ctx.chance(_LOOKED_AFTER_BEFORE_RATE):
            lo = max(kid.dob, self.o.start - timedelta(days=4 * 365))
            if lo < self.o.start:
                looked_after_from = (ctx.day(lo, self.o.start - timedelta(days=1)), None)
        if looked_after_from is not None:
            looked_after.period_of_care(
                ctx, kid, looked_after_from[0], referral_id=looked_after_from[1]
            )
        if (referrals or episodes or looked_after_from) and ctx.chance(_PREFERENCE_RATE):
            known = [r.row["cine_referral_date"] for r in referrals]
            known += [e["earl_episode_start_date"] for e in episodes]
            if looked_after_from is not None:
                known.append(max(looked_after_from[0], self.o.start))
            first = min(known)
            sharing_preference(
                ctx, kid, ctx.day(first, self.o.end), looked_after=bool(looked_after_from)
            )

    def young_person(
        self, index: int, *, care_leaver: bool, batch: dict[str, list[dict[str, Any]]]
    ) -> None:
        """A care leaver, or a former child the LA still holds, aged 17-21 (18-21) at ``end``."""
        rng, o = self.rng, self.o
        person_id = f"C{index + 1:07d}"
        youngest = 17 if care_leaver else 18
        lo = years_before(o.end, 22) + timedelta(days=1)
        dob = random_day(rng, lo, years_before(o.end, youngest))
        upn = self._upn(dob)
        nhs_number = self._nhs_number(index)
        mistyped = not care_leaver and self.ctx.chance(_MISTYPED_NHS_RATE)
        if mistyped:  # one digit wrong: the check digit no longer fits
            nhs_number = nhs_number[:9] + str((int(nhs_number[9]) + 1) % 10)
        first_link = self.next_link
        batch[ssd.person.name].append(self._person_row(person_id, dob, None, nhs_number, upn))
        batch[ssd.linked_identifiers.name].extend(self._link_rows(person_id, dob, nhs_number, upn))
        batch[ssd.address.name].append(self._address_row(index, person_id, dob, None))
        if mistyped:
            self.ctx.record_bad(ssd.person.name, person_id, "nhs_number.check")
            for link in range(first_link, self.next_link):
                self.ctx.record_bad(ssd.linked_identifiers.name, link, "nhs_number.check")
        if care_leaver:
            looked_after.care_leaver(self.ctx, Child(person_id, dob))

    def _person_row(
        self,
        person_id: str,
        dob: date,
        death_date: date | None,
        nhs_number: str | None,
        upn: tuple[str, date] | None,
    ) -> dict[str, Any]:
        rng = self.rng
        sex = codes.SEXES.pick(rng)
        if sex == "F":
            forename, gender = pick(rng, codes.FEMALE_FORENAMES), "02"
        elif sex == "M":
            forename, gender = pick(rng, codes.MALE_FORENAMES), "01"
        else:
            forename = pick(rng, codes.FEMALE_FORENAMES + codes.MALE_FORENAMES)
            gender = "00"
        if rng.random() < 0.01:
            gender = pick(rng, ("00", "09"))
        return {
            "pers_person_id": person_id,
            "pers_forename": forename,
            "pers_surname": pick(rng, codes.SURNAMES),
            "pers_sex": sex,
            "pers_gender": gender,
            "pers_ethnicity": codes.ETHNICITIES.pick(rng),
            "pers_dob": dob,
            "pers_expected_dob": None,
            "pers_death_date": death_date,
            "pers_common_child_id": nhs_number,
            # UN1: under school age, no UPN yet (DfE UPN-unknown codes) [verify wording].
            "pers_upn_unknown": None if upn else "UN1",
            "pers_send_flag": "Y" if rng.random() < _SEND_RATE else "N",
            "pers_is_mother": None,
            "pers_nationality": None,
            "last_updated": self._updated(death_date or dob),
        }

    def _upn(self, dob: date) -> tuple[str, date]:
        """A UPN allocated when the child started reception (or earlier, at nursery)."""
        school_year = dob.year + (5 if dob.month >= 9 else 4)
        allocated = date(school_year, 9, between(self.rng, 1, 30))
        if allocated > self.o.end:  # aged 4 at ``end`` and not yet in reception
            allocated = random_day(self.rng, self.o.end - timedelta(days=365), self.o.end)
        return self.upns.allocate(self.rng, allocated.year % 100), allocated

    def _link_rows(
        self,
        person_id: str,
        dob: date,
        nhs_number: str | None,
        upn: tuple[str, date] | None,
    ) -> list[dict[str, Any]]:
        links: list[tuple[str, str, date]] = []
        if nhs_number:
            links.append(("NHS Number", nhs_number, dob))
        if upn:
            links.append(("Unique Pupil Number", upn[0], upn[1]))
        rows = []
        for kind, value, valid_from in links:
            rows.append(
                {
                    "link_table_id": self.next_link,
                    "link_person_id": person_id,
                    "link_identifier_type": kind,
                    "link_identifier_value": value,
                    "link_valid_from_date": valid_from,
                    "link_valid_to_date": None,
                    "last_updated": self._updated(valid_from),
                }
            )
            self.next_link += 1
        return rows

    def _address_row(
        self, index: int, person_id: str, dob: date, death_date: date | None
    ) -> dict[str, Any]:
        rng = self.rng
        moved_in = random_day(rng, dob, death_date or self.o.end)
        district = pick(rng, codes.POSTCODE_DISTRICTS)
        sector = below(rng, 10)
        letters = codes.POSTCODE_INWARD_LETTERS
        unit = pick(rng, letters) + pick(rng, letters)
        return {
            "addr_table_id": index + 1,
            "addr_person_id": person_id,
            "addr_address_type": "HOME",
            "addr_address_start_date": moved_in,
            "addr_address_end_date": None,
            "addr_address_postcode": f"{district} {sector}{unit}",
            "last_updated": self._updated(moved_in),
        }

    # -- early help

    def _early_help(self, person_id: str, first_day: date) -> list[dict[str, Any]]:
        rng, end = self.rng, self.o.end
        rows = []
        count = poisson(rng, _EARLY_HELP_PER_CHILD)
        for started in sorted(random_day(rng, first_day, end) for _ in range(count)):
            ended, end_reason = None, None
            if rng.random() < _EARLY_HELP_ENDED_RATE:
                candidate = started + timedelta(days=between(rng, 42, 300))
                if candidate <= end:
                    ended, end_reason = candidate, codes.EARLY_HELP_END_REASONS.pick(rng)
            rows.append(
                {
                    "earl_episode_id": f"EH{self.next_episode:07d}",
                    "earl_person_id": person_id,
                    "earl_episode_start_date": started,
                    "earl_episode_end_date": ended,
                    "earl_episode_reason": codes.EARLY_HELP_REASONS.pick(rng),
                    "earl_episode_end_reason": end_reason,
                    "earl_episode_organisation": codes.EARLY_HELP_ORGANISATIONS.pick(rng),
                    "earl_episode_worker_id": f"EHW{below(rng, self.early_help_workers):05d}",
                    "last_updated": self._updated(ended or started, max_lag_days=14),
                }
            )
            self.next_episode += 1
        return rows
