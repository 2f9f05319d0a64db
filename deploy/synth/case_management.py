"""Write a synthetic Standard Safeguarding Dataset (SSD) case-management database.

``chorus synth`` uses this to give the case-management connector something to
read: every ``ssd_*`` table declared in :mod:`connectors.case_management.ssd`,
filled with made-up children, identifiers, addresses, contacts and CIN referrals
(this module), what follows a referral (assessments with factors, section 47
enquiries, conferences, CIN and CP plans and reviews: ``case_management_social_care``),
children looked after and care leavers aged 17-21 with six-monthly pathway plan
reviews (``case_management_looked_after``), early help with families, outcomes,
re-referrals, step-ups and Voice Notes (``case_management_early_help``), and
children's views in form answers and sharing preferences
(``case_management_voice``), for one fictional local authority.

The ``children`` are aged 0-17 at ``end``. Beside them the LA knows a few young
people aged 17-21: care leavers (about 0.45% of ``children``) and former children
with no current involvement (0.25%); ``children`` plus these stays within the
synthetic NHS number range (MAX_CHILDREN).

About 0.5% of the rows the social-care generators write are realistically bad
(an end date before its start, a code outside its list), and some former children
carry a mistyped NHS number (failing mod-11); :attr:`SynthSummary.bad` lists each
(table, key, rule) the connector should dead-letter. Referrals and the people
they are about are never made bad, so referral flows stay exact.

Guarantees:

* **Synthetic only.** NHS numbers come from the 999 range that is never issued;
  UPNs carry a caller-chosen fictitious LA number; names come from short lists
  of common names; postcodes are random inward codes in a few districts.
* **Deterministic.** Everything is drawn in a fixed order from two
  ``random.Random`` streams seeded from ``seed`` (one for people, contacts,
  referrals and early-help episodes, one for everything that follows), and no
  value depends on the wall clock, so the same options give identical rows.
* **Internally consistent.** Events fall between ``start`` and ``end`` and never
  before the child's birth; a closed referral never closes before it was made;
  ``last_updated`` is never before the change it records and never after
  ``end``; some rows share a ``last_updated`` second (a monthly data-quality
  sweep and 15-minute office-hours slots), so readers must break ties by key.
* **Scales.** Rows are inserted in batches with executemany in one transaction
  (200,000 children, 2.2 million rows: about a minute on a 2-core machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, DateTime, Table, create_engine, event, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from connectors.case_management import ssd
from deploy.synth.case_management_base import MAX_CHILDREN, SynthError
from deploy.synth.case_management_people import Generator

__all__ = [
    "MAX_CHILDREN",
    "TABLES",
    "SynthError",
    "SynthOptions",
    "SynthSummary",
    "copy_database",
    "write_case_management_db",
]

#: The tables written, in the order of ``ssd.metadata`` (parents before children).
TABLES: tuple[Table, ...] = tuple(ssd.metadata.sorted_tables)

_BATCH_CHILDREN = 5_000

#: Young people aged 17-21 beside the children: care leavers, and former children.
_CARE_LEAVER_RATE = 0.0045
_FORMER_CHILD_RATE = 0.0025


@dataclass(frozen=True)
class SynthOptions:
    """What to generate. The same options always give the same rows."""

    children: int = 1000
    seed: int = 1
    la_code: str = "999"  # fictitious LA number, used in UPN positions 2-4 and events
    start: date = date(2024, 4, 1)  # contacts, referrals and episodes fall in [start, end]
    end: date = date(2026, 3, 31)
    #: care leavers beside the children; None: the national rate (0.45% of children)
    care_leavers: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.children, bool) or not isinstance(self.children, int):
            raise SynthError("children must be an integer")
        if not 0 <= self.children <= MAX_CHILDREN:
            raise SynthError(f"children must be between 0 and {MAX_CHILDREN}")
        if not isinstance(self.la_code, str) or not re.fullmatch(r"[0-9]{3}", self.la_code):
            raise SynthError("la_code must be exactly 3 digits")
        if self.start > self.end:
            raise SynthError("start must not be after end")
        if self.care_leavers is not None and (
            isinstance(self.care_leavers, bool)
            or not isinstance(self.care_leavers, int)
            or not 0 <= self.care_leavers <= MAX_CHILDREN - self.children
        ):
            raise SynthError(
                f"care_leavers must be an integer between 0 and {MAX_CHILDREN - self.children}"
            )

    @property
    def young_people(self) -> tuple[int, int]:
        """How many care leavers and former children, within the NHS number range."""
        room = MAX_CHILDREN - self.children
        rate = round(self.children * _CARE_LEAVER_RATE)
        leavers = min(room, rate if self.care_leavers is None else self.care_leavers)
        return leavers, min(room - leavers, round(self.children * _FORMER_CHILD_RATE))


@dataclass(frozen=True)
class SynthSummary:
    """Rows written per table, and the bad rows written on purpose: (table, key, rule)."""

    rows: dict[str, int] = field(default_factory=dict)
    bad: tuple[tuple[str, str, str], ...] = ()

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
            counts, bad = _insert_all(conn, options)
    finally:
        engine.dispose()
    return SynthSummary(rows=counts, bad=tuple(bad))


def copy_database(source_url: str, target_url: str, *, batch: int = 20_000) -> dict[str, int]:
    """Copy every SSD table from one database to another (for example SQLite to PostgreSQL),
    creating or replacing the tables at the target; returns rows copied per table."""
    source, target = create_engine(source_url), create_engine(target_url)
    counts: dict[str, int] = {}
    try:
        with target.begin() as conn:
            ssd.metadata.drop_all(conn, tables=list(TABLES))
            ssd.metadata.create_all(conn, tables=list(TABLES))
        with source.connect() as src, target.begin() as dst:
            for table in TABLES:
                counts[table.name] = 0
                result = src.execution_options(yield_per=batch).execute(select(table))
                for part in result.mappings().partitions(batch):
                    dst.execute(table.insert(), [dict(r) for r in part])
                    counts[table.name] += len(part)
    finally:
        source.dispose()
        target.dispose()
    return counts


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
            ssd.metadata.drop_all(conn, tables=list(TABLES))
        ssd.metadata.create_all(conn, tables=list(TABLES))


def _insert_all(conn: Connection, options: SynthOptions) -> tuple[dict[str, int], list]:
    generator = Generator(options, TABLES)
    counts = {table.name: 0 for table in TABLES}
    batch = generator.ctx.batch
    for index in range(options.children):
        generator.child(index, batch)
        if (index + 1) % _BATCH_CHILDREN == 0:
            _flush(conn, batch, counts)
    leavers, former = options.young_people
    for j in range(leavers + former):
        generator.young_person(options.children + j, care_leaver=j < leavers, batch=batch)
    _flush(conn, batch, counts)
    return counts, generator.ctx.bad


def _flush(
    conn: Connection, batch: dict[str, list[dict[str, Any]]], counts: dict[str, int]
) -> None:
    sqlite = conn.dialect.name == "sqlite"
    for table in TABLES:
        rows = batch.get(table.name)
        if rows:
            if sqlite:
                _insert_sqlite(conn, table, rows)
            else:
                conn.execute(table.insert(), rows)
            counts[table.name] += len(rows)
            rows.clear()


def _insert_sqlite(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-value processing is most of the
    load time at two million rows. Dates and times are stored exactly as SQLAlchemy's
    SQLite types store them (ISO text; times always with six fractional digits), so
    comparisons with bound parameters stay right."""
    names = [c.name for c in table.columns]
    times = [i for i, c in enumerate(table.columns) if isinstance(c.type, DateTime)]
    days = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
    values = []
    for row in rows:
        v = [row.get(n) for n in names]
        for i in times:
            if v[i] is not None:
                text = v[i].isoformat(" ")
                v[i] = text if len(text) > 19 else text + ".000000"
        for i in days:
            if v[i] is not None:
                v[i] = v[i].isoformat()
        values.append(tuple(v))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, values)
