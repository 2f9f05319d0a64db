"""Write a synthetic Standard Safeguarding Dataset (SSD) case-management database.

``chorus synth`` uses this to give the case-management connector something to
read: the ``ssd_*`` tables declared in :mod:`connectors.case_management.ssd`,
filled with made-up children, identifiers, addresses, contacts, CIN referrals
and early-help episodes for one fictional local authority.

Guarantees:

* **Synthetic only.** NHS numbers come from the 999 range that is never issued;
  UPNs carry a caller-chosen fictitious LA number; names come from short lists
  of common names; postcodes are random inward codes in a few districts.
* **Deterministic.** Everything is drawn from one ``random.Random(seed)`` in a
  fixed order and no value depends on the wall clock, so the same options give
  identical rows.
* **Internally consistent.** Events fall between ``start`` and ``end`` and never
  before the child's birth; a closed referral never closes before it was made;
  ``last_updated`` is never before the change it records and never after
  ``end``; some rows share a ``last_updated`` second (a monthly data-quality
  sweep and 15-minute office-hours slots), so readers must break ties by key.
* **Scales.** Rows are inserted in batches with executemany in one transaction.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table, create_engine, event, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from connectors.case_management.ssd import (
    address,
    cin_episodes,
    contacts,
    early_help_episodes,
    linked_identifiers,
    metadata,
    person,
)
from deploy.synth import codes
from schemas.identifiers import synthetic_nhs_number, synthetic_upn

__all__ = [
    "MAX_CHILDREN",
    "TABLES",
    "SynthError",
    "SynthOptions",
    "SynthSummary",
    "write_case_management_db",
]

#: The tables written, parents first.
TABLES: tuple[Table, ...] = (
    person,
    linked_identifiers,
    address,
    contacts,
    cin_episodes,
    early_help_episodes,
)

#: Upper bound on ``children``: the synthetic NHS range holds a little over 900,000 numbers.
MAX_CHILDREN = 900_000

_BATCH_CHILDREN = 5_000

# Rates (per child, or shares of rows). See the module docstring of ``codes`` for the caveats.
_CONTACTS_PER_CHILD = 1.5
_REFERRAL_SHARE_OF_CONTACTS = 1 / 3  # so ~0.5 referrals per child
_EARLY_HELP_PER_CHILD = 0.3
_NO_NHS_NUMBER_RATE = 0.02
_SEND_RATE = 0.04
_UNKNOWN_DAY_RATE = 0.01
_REFERRAL_NFA_RATE = 0.10
_CLOSED_RATE = 0.5  # of all referrals, NFA included (NFA referrals close at once)
_EARLY_HELP_ENDED_RATE = 0.8  # the rest stay open; so do those that would end after ``end``
_MONTHLY_SWEEP_RATE = 0.10  # rows last touched by the 02:00 sweep on the 1st of a month
_UNRECORDED_FLAGS_RATE = 0.03  # outcome JSON whose secondary flags were never recorded
_SCHOOL_AGE = range(4, 18)
_MAX_AGE = 17
_CHILDREN_PER_SCHOOL = 250
_CHILDREN_PER_SOCIAL_WORKER = 35
_CHILDREN_PER_EARLY_HELP_WORKER = 60

_T = TypeVar("_T")


class SynthError(Exception):
    """The synthetic database cannot be written as asked."""


@dataclass(frozen=True)
class SynthOptions:
    """What to generate. The same options always give the same rows."""

    children: int = 1000
    seed: int = 1
    la_code: str = "999"  # fictitious LA number, used in UPN positions 2-4 and events
    start: date = date(2024, 4, 1)  # contacts, referrals and episodes fall in [start, end]
    end: date = date(2026, 3, 31)

    def __post_init__(self) -> None:
        if isinstance(self.children, bool) or not isinstance(self.children, int):
            raise SynthError("children must be an integer")
        if not 0 <= self.children <= MAX_CHILDREN:
            raise SynthError(f"children must be between 0 and {MAX_CHILDREN}")
        if not isinstance(self.la_code, str) or not re.fullmatch(r"[0-9]{3}", self.la_code):
            raise SynthError("la_code must be exactly 3 digits")
        if self.start > self.end:
            raise SynthError("start must not be after end")


@dataclass(frozen=True)
class SynthSummary:
    """Rows written per table."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def write_case_management_db(
    url: str, options: SynthOptions, *, overwrite: bool = False
) -> SynthSummary:
    """Create the SSD tables at SQLAlchemy ``url`` and fill them with synthetic rows.

    Refuses with :class:`SynthError` if any of the tables already holds rows,
    unless ``overwrite`` is true, in which case those tables are dropped and
    recreated first. Other tables in the database are left alone.
    """
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _fast_sqlite_writes)
    try:
        _prepare_tables(engine, overwrite=overwrite)
        with engine.begin() as conn:
            counts = _insert_all(conn, options)
    finally:
        engine.dispose()
    return SynthSummary(rows=counts)


# --------------------------------------------------------------------------- database


def _fast_sqlite_writes(dbapi_connection: Any, _record: Any) -> None:
    """Bulk-load settings for SQLite; set only on the synth writer's own engine."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
    finally:
        cursor.close()


def _existing_row_counts(conn: Connection) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    return {
        table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
        for table in TABLES
        if table.name in present
    }


def _prepare_tables(engine: Engine, *, overwrite: bool) -> None:
    with engine.begin() as conn:
        occupied = {name: n for name, n in _existing_row_counts(conn).items() if n}
        if occupied and not overwrite:
            listed = ", ".join(f"{name} ({n} rows)" for name, n in sorted(occupied.items()))
            raise SynthError(
                f"the target database already holds case-management rows: {listed}; "
                "pass overwrite=True (--overwrite) to drop and recreate these tables"
            )
        if overwrite:
            metadata.drop_all(conn, tables=list(TABLES))
        metadata.create_all(conn, tables=list(TABLES))


def _insert_all(conn: Connection, options: SynthOptions) -> dict[str, int]:
    generator = _Generator(options)
    counts = {table.name: 0 for table in TABLES}
    batch = _empty_batch()
    for index in range(options.children):
        generator.child(index, batch)
        if len(batch[person.name]) >= _BATCH_CHILDREN:
            _flush(conn, batch, counts)
            batch = _empty_batch()
    _flush(conn, batch, counts)
    return counts


def _empty_batch() -> dict[str, list[dict[str, Any]]]:
    return {table.name: [] for table in TABLES}


def _flush(
    conn: Connection, batch: dict[str, list[dict[str, Any]]], counts: dict[str, int]
) -> None:
    for table in TABLES:
        rows = batch[table.name]
        if rows:
            conn.execute(table.insert(), rows)
            counts[table.name] += len(rows)


# --------------------------------------------------------------------------- dates and times


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


# ``random.Random.randrange`` and ``choice`` cost several times more than ``random()``;
# at a million rows that is most of the run. ``int(random() * n)`` is deterministic
# (IEEE doubles) and its bias for the small ``n`` used here is below 1e-9.


def _below(rng: random.Random, n: int) -> int:
    """A draw from ``range(n)``."""
    return int(rng.random() * n)


def _between(rng: random.Random, lo: int, hi: int) -> int:
    """A draw from ``lo..hi`` inclusive."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


def _random_day(rng: random.Random, lo: date, hi: date) -> date:
    return date.fromordinal(_between(rng, lo.toordinal(), hi.toordinal()))


def _office_slot(rng: random.Random, day: date) -> datetime:
    """A 15-minute slot between 09:00 and 17:45: coarse on purpose, so rows share seconds."""
    slot = _below(rng, 36)
    return datetime.combine(day, time(9 + slot // 4, (slot % 4) * 15))


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _flags(keys: tuple[str, ...], yes: set[str], *, unrecorded: bool) -> str:
    """An SSD outcome JSON with every key present: 'Y', 'N', or null when unrecorded."""
    return _flags_json(keys, frozenset(yes), unrecorded)


@lru_cache(maxsize=4096)
def _flags_json(keys: tuple[str, ...], yes: frozenset[str], unrecorded: bool) -> str:
    return json.dumps({k: "Y" if k in yes else (None if unrecorded else "N") for k in keys})


# --------------------------------------------------------------------------- generator


@dataclass
class _Referral:
    row: dict[str, Any]
    closed_on: date | None


class _UpnAllocator:
    """Unique UPNs: a serial per (establishment, allocation year), like a school's MIS."""

    def __init__(self, rng: random.Random, la_code: str, children: int) -> None:
        schools = min(7000, max(20, children // _CHILDREN_PER_SCHOOL))
        self._la_code = la_code
        self._establishments = sorted(rng.sample(range(1000, 8000), schools))
        self._next_serial: dict[tuple[int, int], int] = {}

    def allocate(self, rng: random.Random, year2: int) -> str:
        start = _below(rng, len(self._establishments))
        for step in range(len(self._establishments)):
            establishment = self._establishments[(start + step) % len(self._establishments)]
            serial = self._next_serial.get((establishment, year2), 1)
            if serial <= 999:
                self._next_serial[(establishment, year2)] = serial + 1
                return synthetic_upn(self._la_code, establishment, year2, serial)
        raise SynthError("ran out of synthetic UPN serials for one allocation year")


class _Generator:
    """Draws every row from one ``random.Random`` in a fixed order."""

    def __init__(self, options: SynthOptions) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.ceiling = datetime.combine(options.end, time(23, 59, 59))
        self.earliest_dob = _years_before(options.end, _MAX_AGE + 1) + timedelta(days=1)
        # An affine permutation of the synthetic NHS index space: distinct children,
        # distinct numbers, without handing them out in order.
        self.nhs_step = self._coprime_step(MAX_CHILDREN)
        self.nhs_offset = self.rng.randrange(MAX_CHILDREN)
        self.upns = _UpnAllocator(self.rng, options.la_code, options.children)
        self.social_workers = max(2, options.children // _CHILDREN_PER_SOCIAL_WORKER)
        self.early_help_workers = max(2, options.children // _CHILDREN_PER_EARLY_HELP_WORKER)
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

    def _updated(self, since: date, *, max_lag_days: int | None = None) -> datetime:
        """A ``last_updated`` at or after ``since`` (and after ``start``), never after ``end``."""
        lo = max(since, self.o.start)
        hi = self.o.end if max_lag_days is None else min(self.o.end, lo + timedelta(max_lag_days))
        if self.rng.random() < _MONTHLY_SWEEP_RATE:
            sweep = datetime.combine(_first_of_next_month(lo), time(2, 0))
            if sweep <= self.ceiling:
                return sweep
        return _office_slot(self.rng, _random_day(self.rng, lo, hi))

    # -- one child

    def child(self, index: int, batch: dict[str, list[dict[str, Any]]]) -> None:
        rng, o = self.rng, self.o
        person_id = f"C{index + 1:07d}"
        dob = _random_day(rng, self.earliest_dob, o.end)
        if rng.random() < _UNKNOWN_DAY_RATE and dob.replace(day=15) <= o.end:
            dob = dob.replace(day=15)
        first_day = max(dob, o.start)
        upn = self._upn(dob) if _age_on(dob, o.end) in _SCHOOL_AGE else None

        contact_rows, referrals = self._contacts_and_referrals(person_id, first_day)
        episodes = self._early_help(person_id, first_day)
        death_date = self._settle_terminal_closures(
            referrals, contact_rows, episodes, upn[1] if upn else None
        )

        nhs_number = None
        if rng.random() >= _NO_NHS_NUMBER_RATE:
            nhs_number = synthetic_nhs_number(
                (self.nhs_step * index + self.nhs_offset) % MAX_CHILDREN
            )

        batch[person.name].append(self._person_row(person_id, dob, death_date, nhs_number, upn))
        batch[linked_identifiers.name].extend(self._link_rows(person_id, dob, nhs_number, upn))
        batch[address.name].append(self._address_row(index, person_id, dob, death_date))
        batch[contacts.name].extend(contact_rows)
        batch[cin_episodes.name].extend(r.row for r in referrals)
        batch[early_help_episodes.name].extend(episodes)

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
            forename, gender = _pick(rng, codes.FEMALE_FORENAMES), "02"
        elif sex == "M":
            forename, gender = _pick(rng, codes.MALE_FORENAMES), "01"
        else:
            forename = _pick(rng, codes.FEMALE_FORENAMES + codes.MALE_FORENAMES)
            gender = "00"
        if rng.random() < 0.01:
            gender = _pick(rng, ("00", "09"))
        return {
            "pers_person_id": person_id,
            "pers_forename": forename,
            "pers_surname": _pick(rng, codes.SURNAMES),
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
            "last_updated": self._updated(death_date or dob),
        }

    def _upn(self, dob: date) -> tuple[str, date]:
        """A UPN allocated when the child started reception (or earlier, at nursery)."""
        school_year = dob.year + (5 if dob.month >= 9 else 4)
        allocated = date(school_year, 9, _between(self.rng, 1, 30))
        if allocated > self.o.end:  # aged 4 at ``end`` and not yet in reception
            allocated = _random_day(self.rng, self.o.end - timedelta(days=365), self.o.end)
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
        moved_in = _random_day(rng, dob, death_date or self.o.end)
        district = _pick(rng, codes.POSTCODE_DISTRICTS)
        sector = _below(rng, 10)
        letters = codes.POSTCODE_INWARD_LETTERS
        unit = _pick(rng, letters) + _pick(rng, letters)
        postcode = f"{district} {sector}{unit}"
        return {
            "addr_table_id": index + 1,
            "addr_person_id": person_id,
            "addr_address_type": "HOME",
            "addr_address_start_date": moved_in,
            "addr_address_end_date": None,
            "addr_address_postcode": postcode,
            "last_updated": self._updated(moved_in),
        }

    # -- contacts and referrals

    def _contacts_and_referrals(
        self, person_id: str, first_day: date
    ) -> tuple[list[dict[str, Any]], list[_Referral]]:
        rng = self.rng
        contact_rows: list[dict[str, Any]] = []
        referrals: list[_Referral] = []
        count = _poisson(rng, _CONTACTS_PER_CHILD)
        days = sorted(_random_day(rng, first_day, self.o.end) for _ in range(count))
        for day in days:  # in date order, so a child's ids increase with time
            at = datetime.combine(day, time(self._contact_hour(), _below(rng, 60), _below(rng, 60)))
            source = codes.REFERRAL_SOURCES.pick(rng)
            if rng.random() < _REFERRAL_SHARE_OF_CONTACTS:
                referrals.append(self._referral(person_id, day, source))
                yes = {"NEW_REFERRAL_FLAG"}
                if rng.random() < 0.1:
                    yes.add("CP_ENQUIRY_FLAG")
            else:
                yes = {codes.CONTACT_OUTCOMES_WITHOUT_REFERRAL.pick(rng)}
            unrecorded = rng.random() < _UNRECORDED_FLAGS_RATE
            updated = min(at + timedelta(seconds=_below(rng, 3 * 86_400)), self.ceiling)
            contact_rows.append(
                {
                    "cont_contact_id": f"CT{self.next_contact:08d}",
                    "cont_person_id": person_id,
                    "cont_contact_date": at,
                    "cont_contact_source_code": source,
                    "cont_contact_source_desc": codes.REFERRAL_SOURCE_DESCRIPTIONS[source],
                    "cont_contact_outcome_json": _flags(
                        codes.CONTACT_OUTCOME_KEYS, yes, unrecorded=unrecorded
                    ),
                    "last_updated": updated,
                }
            )
            self.next_contact += 1
        return contact_rows, referrals

    def _contact_hour(self) -> int:
        """Mostly office hours; police and out-of-hours contacts at any time."""
        rng = self.rng
        return _between(rng, 8, 18) if rng.random() < 0.8 else _below(rng, 24)

    def _referral(self, person_id: str, contact_day: date, source: str) -> _Referral:
        rng, end = self.rng, self.o.end
        referral_date = min(contact_day + timedelta(days=_pick(rng, (0, 0, 0, 0, 1, 2, 3))), end)
        need = codes.PRIMARY_NEEDS.pick(rng)
        nfa = rng.random() < _REFERRAL_NFA_RATE
        close_date, close_reason = None, None
        if nfa:
            close_date, close_reason = referral_date, "RC8"
        elif rng.random() < (_CLOSED_RATE - _REFERRAL_NFA_RATE) / (1 - _REFERRAL_NFA_RATE):
            close_reason = codes.CLOSE_REASONS.pick(rng)
            days = (
                _between(rng, 5, 45) if close_reason in ("RC8", "RC9") else _between(rng, 20, 400)
            )
            close_date = referral_date + timedelta(days=days)
            if close_date > end:
                close_date = _random_day(rng, referral_date, end)
        team = self._team(need, nfa)
        worker = f"SW{codes.REFERRAL_TEAMS.index(team) + 1}{_below(rng, self.social_workers):05d}"
        row = {
            "cine_referral_id": f"R{self.next_referral:07d}",
            "cine_person_id": person_id,
            "cine_referral_date": referral_date,
            "cine_cin_primary_need_code": need,
            "cine_referral_source_code": source,
            "cine_referral_source_desc": codes.REFERRAL_SOURCE_DESCRIPTIONS[source],
            "cine_referral_outcome_json": self._referral_outcome(nfa),
            "cine_referral_nfa": "Y" if nfa else "N",
            "cine_close_reason": close_reason,
            "cine_close_date": close_date,
            "cine_referral_team": team,
            "cine_referral_worker_id": worker,
            "last_updated": self._updated(close_date or referral_date, max_lag_days=30),
        }
        self.next_referral += 1
        return _Referral(row=row, closed_on=close_date)

    def _team(self, need: str, nfa: bool) -> str:
        if nfa:
            return "MASH"
        if need == "N2" and self.rng.random() < 0.7:
            return "Disabled Children's Team"
        return _pick(self.rng, codes.REFERRAL_TEAMS[1:6])

    def _referral_outcome(self, nfa: bool) -> str:
        rng = self.rng
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
        return _flags(codes.REFERRAL_OUTCOME_KEYS, yes, unrecorded=unrecorded)

    def _settle_terminal_closures(
        self,
        referrals: list[_Referral],
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

    # -- early help

    def _early_help(self, person_id: str, first_day: date) -> list[dict[str, Any]]:
        rng, end = self.rng, self.o.end
        rows = []
        count = _poisson(rng, _EARLY_HELP_PER_CHILD)
        for started in sorted(_random_day(rng, first_day, end) for _ in range(count)):
            ended, end_reason = None, None
            if rng.random() < _EARLY_HELP_ENDED_RATE:
                candidate = started + timedelta(days=_between(rng, 42, 300))
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
                    "earl_episode_worker_id": f"EHW{_below(rng, self.early_help_workers):05d}",
                    "last_updated": self._updated(ended or started, max_lag_days=14),
                }
            )
            self.next_episode += 1
        return rows
