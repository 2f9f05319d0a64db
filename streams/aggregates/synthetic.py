"""Synthetic events as strategic reporting receives them, for tests, benchmarks and checks.

Everything here is made up from a seed: pseudonyms are random hex, districts a
short fictitious list, statements the redaction marker. It produces what the
gatekeeper would put on ``chorus.share.strategic_reporting.*`` (the shared form
of each event: dates as months, identifiers as pseudonyms, free text redacted or
withheld by consent), ledger entries shaped as the gatekeeper writes them (one
per event and purpose, following policies/data/purposes.yaml), and some
re-published records, replays and withdrawals, so idempotence is exercised.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REDACTED = "[redacted]"
DISTRICTS = ("ZZ1", "ZZ2", "ZZ3", "ZZ4", "ZZ5")
DOMAINS = (
    "CONTACT_SUPPORT",
    "EDUCATION_TRAINING",
    "EMPLOYMENT",
    "CONTINGENCY",
    "ACCOMMODATION",
    "RELATIONSHIPS",
    "PRACTICAL_SKILLS",
    "FINANCE",
    "HEALTH_WELLBEING",
    "IDENTITY",
)
THEMES = ("accommodation", "money", "family", "health", "work", "feeling_safe", "school")
ACTIVITIES = ("ACT_F1", "ACT_F2", "ACT_P5", "ACT_F5", "ACT_G5", "ACT_G4", "ACT_0")
END_REASONS = ("OUTCOMES_MET", "OUTCOMES_MET", "STEP_UP_CSC", "STEP_DOWN_UNIVERSAL", "DISENGAGED")
SOURCES = ("RS_1A", "RS_2A", "RS_3B", "RS_5D", "RS_6", "RS_8")
PN = ("PN0", "PN1", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7")
PURPOSES_FILE = Path(__file__).resolve().parents[2] / "policies" / "data" / "purposes.yaml"
EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


@dataclass
class Synth:
    """A generator of one synthetic LA's shared events (deterministic from the seed)."""

    seed: int = 1
    rng: random.Random = field(init=False)
    out: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._n = 0

    # --- building blocks ------------------------------------------------------------

    def hex(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def month(self, start: int = 0, span: int = 36) -> str:
        i = 2023 * 12 + start + self.rng.randrange(span)
        return f"{i // 12:04d}-{i % 12 + 1:02d}"

    @staticmethod
    def plus(m: str, months: int) -> str:
        i = int(m[:4]) * 12 + int(m[5:7]) - 1 + months
        return f"{i // 12:04d}-{i % 12 + 1:02d}"

    def at(self, m: str) -> dt.datetime:
        return dt.datetime(int(m[:4]), int(m[5:7]), 1 + self.rng.randrange(27), tzinfo=dt.UTC)

    def share(
        self, event_type: str, person: str, record: str, when: str, op: str = "UPSERT"
    ) -> dict[str, Any]:
        self._n += 1
        return {
            "event_id": f"ev-{self.seed}-{self._n}",
            "event_type": event_type,
            "event_time": self.at(when),
            "la_code": "999",
            "operation": op,
            "purpose": "strategic_reporting",
            "recipient": "la_performance_team",
            "policy_revision": "synthetic",
            "person_pseudonym": person,
            "record_pseudonym": record,
            "identifiers": None,
        }

    def emit(self, event_type: str, person: str, when: str, record: str | None = None, **fields):
        rec = {"share": self.share(event_type, person, record or self.hex(), when), **fields}
        self.out.append((event_type, rec))
        return rec

    def consent(self, quotes_p: float = 0.6) -> dict[str, Any]:
        return {
            "strategic_reporting": True,
            "verbatim_quotes": self.rng.random() < quotes_p,
            "recorded_at": EPOCH,
        }

    def statement(self, person: str, when: str, context: str, role: str, themes=()) -> None:
        consent = self.consent()
        self.emit(
            "voice.statement_recorded",
            person,
            when,
            statement_id=self.hex(),
            author_role=role,
            context=context,
            instrument="FREE_TEXT",
            mode="SPOKEN",
            expressed_at=when,
            items=[],
            text=REDACTED if consent["verbatim_quotes"] else None,
            themes=list(themes),
            consent_for_reports=consent,
        )

    def person(self, person: str, age: int, area: str) -> None:
        dob = self.plus("2026-01", -12 * age - self.rng.randrange(12))
        self.emit(
            "case_management.person_registered",
            person,
            dob,
            dob=dob,
            sex=self.rng.choice(("F", "M")),
            disabilities=[],
            postcode=area,
        )

    # --- cohorts --------------------------------------------------------------------

    def care_leaver(self, person: str) -> None:
        age = self.rng.randint(17, 21)
        self.person(person, age, self.rng.choice(DISTRICTS))
        for k in range(self.rng.randint(1, 3)):
            when = self.plus("2024-01", 6 * k + self.rng.randrange(6))
            domains = []
            for d in DOMAINS:
                yp = self.rng.randint(0, 10) if self.rng.random() < 0.9 else None
                pa = self.rng.randint(0, 10) if self.rng.random() < 0.95 else None
                status = self.rng.choice(("MET", "PARTLY_MET", "NOT_MET"))
                domains.append(
                    {"domain": d, "status": status, "young_person_rating": yp, "adviser_rating": pa}
                )
            self.emit(
                "case_management.pathway_plan_reviewed",
                person,
                when,
                review_id=self.hex(),
                review_date=when,
                next_review_date=self.plus(when, 6),
                eligibility="FORMER_RELEVANT",
                domains=domains,
            )
            if self.rng.random() < 0.5:
                themes = self.rng.sample(THEMES, self.rng.randint(0, 2))
                self.statement(person, when, "PATHWAY_PLAN", "YOUNG_PERSON", themes)
            touch = self.rng.random() < 0.85
            self.emit(
                "case_management.care_leaver_contact",
                person,
                when,
                contact_date=when,
                in_touch="YES" if touch else "NO",
                activity=self.rng.choice(ACTIVITIES[:-1]) if touch else "ACT_0",
                accommodation="U" if touch else None,
                accommodation_suitable=(self.rng.random() < 0.8) if touch else None,
                eligibility="FORMER_RELEVANT",
            )

    def early_help(self, person: str) -> None:
        self.person(person, self.rng.randint(0, 15), self.rng.choice(DISTRICTS))
        start = self.month(0, 30)
        for _ in range(2 if self.rng.random() < 0.2 else 1):
            record = self.hex()
            fields = {"episode_id": self.hex(), "start_date": start, "family_needs": []}
            self.emit("case_management.early_help_episode_started", person, start, record, **fields)
            if self.rng.random() < 0.55:
                note = self.plus(start, self.rng.choice((-1, 0, 0, 1)))
                hub = self.plus(note, self.rng.choice((0, 0, 1, -1)))
                self.emit(
                    "voice.voice_note_recorded",
                    person,
                    note,
                    voice_note_id=self.hex(),
                    referral_id=self.hex(),
                    recorded_at=note,
                    hub_meeting_date=hub if self.rng.random() < 0.9 else None,
                    author_role="PARENT_CARER",
                    mode="SPOKEN",
                    items=[{"item_code": "WORRIES", "text": None}],
                    consent_for_reports=self.consent(),
                )
            if self.rng.random() < 0.75:
                end = self.plus(start, self.rng.randint(1, 9))
                reason = self.rng.choice(END_REASONS)
                self.emit(
                    "case_management.early_help_episode_ended",
                    person,
                    end,
                    record,
                    episode_id=fields["episode_id"],
                    start_date=start,
                    end_date=end,
                    end_reason=reason,
                    family_needs=[],
                )
                if reason == "STEP_UP_CSC" or self.rng.random() < 0.1:
                    self.referral(person, self.plus(end, self.rng.randint(0, 10)))
                start = self.plus(end, self.rng.randint(1, 14))
            else:
                break

    def referral(self, person: str, when: str | None = None) -> None:
        when = when or self.month()
        self.emit(
            "case_management.referral",
            person,
            when,
            referral_id=self.hex(),
            referral_date=when,
            referral_source=self.rng.choice(SOURCES),
            primary_need="N1",
        )

    def early_years(self, person: str) -> None:
        self.person(person, self.rng.randint(4, 6), self.rng.choice(DISTRICTS))
        review = self.month(0, 12)
        below = self.rng.random() < 0.15
        concerns = sorted(self.rng.sample(("TALKING", "UNDERSTOOD", "HEARING", "BEHAVIOUR"), 1))
        parent = self.rng.random() < 0.3
        by = self.rng.choice(("PARENT", "BOTH") if parent else ("NONE", "PRACTITIONER"))

        def area(zone: str) -> dict[str, Any]:
            return {"score": 40.0, "zone": zone}

        self.emit(
            "health.development_review_completed",
            person,
            review,
            encounter_id=self.hex(),
            review_date=review,
            age_months=self.rng.randint(24, 30),
            asq3_interval="I27",
            communication=area("BELOW" if below else "ABOVE"),
            gross_motor=area("ABOVE"),
            fine_motor=area("ABOVE"),
            problem_solving=area("MONITOR"),
            personal_social=area("ABOVE"),
            all_five_at_expected=not below,
            parent_concerns=concerns if parent else [],
            concern_raised_by=by,
            onward_referral=("SALT" if below and self.rng.random() < 0.6 else None),
        )
        if self.rng.random() < 0.3:
            consent = self.consent()
            self.emit(
                "health.parent_comment_recorded",
                person,
                review,
                comment_id=self.hex(),
                author_role="PARENT_CARER",
                mode="WRITTEN",
                text=REDACTED if consent["verbatim_quotes"] else None,
                consent_for_reports=consent,
            )
        if self.rng.random() < 0.8:
            year = self.rng.choice(("2024/25", "2025/26"))
            good = self.rng.random() < (0.45 if below else 0.7)
            outcomes = [
                {"elg": f"ELG{i:02d}", "outcome": "EXPECTED" if good or i > 2 else "EMERGING"}
                for i in range(1, 18)
            ]
            self.emit(
                "education.eyfsp_assessed",
                person,
                review,
                academic_year=year,
                setting_urn="100000",
                elg_outcomes=outcomes,
                gld=good and self.rng.random() < 0.9,
            )
        if self.rng.random() < 0.7:
            self.emit(
                "education.fsm_eligibility_changed",
                person,
                review,
                eligible=self.rng.random() < 0.25,
                start_date=review,
            )
        if self.rng.random() < 0.6:
            provision = self.rng.choice(("N", "N", "N", "K", "E"))
            needs = [] if provision == "N" else [{"need_type": "SLCN", "rank": 1}]
            self.emit(
                "education.sen_status_changed",
                person,
                review,
                effective_date=review,
                sen_provision=provision,
                needs=needs,
            )

    def social_care(self, person: str) -> None:
        self.person(person, self.rng.randint(1, 17), self.rng.choice(DISTRICTS))
        self.referral(person)
        when = self.month(0, 30)
        self.emit(
            "case_management.assessment", person, when, assessment_id=self.hex(), start_date=when
        )
        if self.rng.random() < 0.4:
            self.statement(person, when, "ASSESSMENT", "CHILD")
        kind = self.rng.random()
        for k in range(self.rng.randint(1, 3)):
            m = self.plus(when, 3 + 6 * k)
            pn = self.rng.choice(PN)
            if kind < 0.5:
                self.emit(
                    "case_management.cla_review",
                    person,
                    m,
                    review_id=self.hex(),
                    period_of_care_id=self.hex(),
                    review_date=m,
                    cancelled=False,
                    participation=pn,
                )
                if self.rng.random() < 0.3:
                    self.statement(person, m, "CLA_REVIEW", "CHILD")
            else:
                self.emit(
                    "case_management.cp_plan_reviewed",
                    person,
                    m,
                    cp_plan_id=self.hex(),
                    review_id=self.hex(),
                    review_date=m,
                    participation=pn if self.rng.random() < 0.8 else None,
                )

    # --- the LA -----------------------------------------------------------------------

    def population(self, children: int) -> list[tuple[str, dict[str, Any]]]:
        cohorts = (
            (0.15, self.care_leaver),
            (0.25, self.early_help),
            (0.30, self.early_years),
            (0.30, self.social_care),
        )
        people = []
        for _ in range(children):
            person = self.hex()
            people.append(person)
            r, acc = self.rng.random(), 0.0
            for share, make in cohorts:
                acc += share
                if r < acc:
                    make(person)
                    break
        self._noise(people)
        return self.out

    def _noise(self, people: list[str]) -> None:
        """Replays, re-published records that move cells, purges: what a real feed holds."""
        events = list(self.out)
        for event_type, rec in self.rng.sample(events, len(events) // 20):
            self.out.append((event_type, rec))  # the same event again
        for event_type, rec in self.rng.sample(events, len(events) // 50):
            if event_type == "case_management.referral":
                moved = dict(rec, referral_source=self.rng.choice(SOURCES))
                moved["share"] = dict(rec["share"], event_id=rec["share"]["event_id"] + "-v2")
                self.out.append((event_type, moved))
        for event_type, rec in self.rng.sample(events, len(events) // 200):
            if event_type != "case_management.person_registered":
                gone = {"share": dict(rec["share"], operation="PURGE")}
                gone["share"]["event_id"] += "-purge"
                self.out.append((event_type, gone))

    def withdrawals(self, people: list[str], when: dt.datetime) -> list[tuple[str, dict]]:
        out = []
        for person in people:
            msg = {
                "person_pseudonym": person,
                "event_types": ["*"] if self.rng.random() < 0.5 else ["voice.statement_recorded"],
                "effective_at": when,
                "policy_revision": "synthetic",
                "record_pseudonyms": [],
            }
            out.append(("platform.subject_withdrawn", msg))
        return out


def ledger_entries(
    events: list[tuple[str, dict[str, Any]]], purposes_file: Path = PURPOSES_FILE
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Ledger entries for shared events, one per purpose, as purposes.yaml decides them."""
    from schemas.catalogue import default_catalogue

    purposes = (yaml.safe_load(purposes_file.read_text()) or {})["purposes"]
    catalogue = default_catalogue()
    seen: set[str] = set()
    for event_type, rec in events:
        event_id = rec["share"]["event_id"]
        if event_id in seen or event_type.startswith("platform."):
            continue
        seen.add(event_id)
        schema = catalogue.latest(event_type).schema
        fields = [f["name"] for f in schema["fields"] if f["name"] != "envelope"]
        consent = rec.get("consent_for_reports") or {}
        for purpose, spec in sorted(purposes.items()):
            listed = (spec.get("events") or {}).get(event_type)
            outcome = "SHARED" if listed else "NOT_SHARED"
            transformed, withheld = [], list(fields)
            reason = f"purpose '{purpose}' does not receive '{event_type}' events"
            if listed:
                quotes = consent.get("verbatim_quotes", True)
                transformed = [
                    {"field": f, "transform": "drop" if t == "redact" and not quotes else t}
                    for f, t in listed.items()
                ]
                released = {t["field"] for t in transformed if t["transform"] != "drop"}
                withheld = [f for f in fields if f not in released]
                reason = f"may receive '{event_type}' events for '{purpose}'"
                if not quotes:
                    reason += "; free text withheld: no consent to verbatim quotes"
            yield (
                "platform.ledger_entry",
                {
                    "event_id": event_id,
                    "event_type": event_type,
                    "event_time": rec["share"]["event_time"],
                    "subject_ref": None,
                    "recipient": "synthetic",
                    "purpose": purpose,
                    "outcome": outcome,
                    "reason": reason,
                    "lawful_basis": "synthetic",
                    "fields_transformed": transformed if listed else [],
                    "fields_withheld": withheld,
                    "policy_revision": "synthetic",
                    "decided_at": rec["share"]["event_time"],
                    "share_topic": None,
                },
            )
