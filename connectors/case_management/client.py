"""Reads the case-management database (SQLAlchemy; SQLite and PostgreSQL); knows nothing of Kafka.

Three ways of reading a table, one per mode:

- after a high-water mark, in (last_updated, key) order: ``rows_after``; a batch
  boundary inside a run of equal timestamps loses nothing, because the key breaks
  the tie (a row-value comparison, served by the (last_updated, key) index);
- in key order after a key, for the initial snapshot: ``rows_after_key``;
- by key, for the change table's entries: ``rows_where``.

Rows are then ``enrich``-ed for their mapping in a few set-based queries per
batch (never one per row): the person's NHS number, UPN and date of birth, and
the mapping's lookups (placements, factors, domains, ...).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Float, Integer, Table, create_engine, func, inspect, select
from sqlalchemy import tuple_ as row_value
from sqlalchemy.engine import Connection, Engine

from connectors.case_management import ssd
from connectors.case_management.changes import change_table
from connectors.case_management.driver import (
    Row,
    chunks,
    dicts,
    driver_rows,
    driver_tuples,
    select_all,
)
from connectors.case_management.mappings import Lookup, TableMapping

UPN_TYPE = "Unique Pupil Number"

#: The columns of a person and their linked identifiers every event needs (the subject).
PERSON_COLUMNS = ("pers_person_id", "pers_common_child_id", "pers_dob", "pers_expected_dob")
LINK_COLUMNS = ("link_person_id", "link_identifier_type", "link_identifier_value")
Mark = tuple[dt.datetime, Any]


def to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def coerce(table: Table, row: dict[str, Any]) -> Row:
    """A row image (JSON from the change table) with each value in its column's Python type."""
    out: Row = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is None or value == "":
            out[column.name] = None
        elif isinstance(column.type, DateTime):
            out[column.name] = to_datetime(value)
        elif isinstance(column.type, Date):
            out[column.name] = dt.date.fromisoformat(str(value)[:10])
        elif isinstance(column.type, Integer):
            out[column.name] = int(value)
        elif isinstance(column.type, Float):
            out[column.name] = float(value)
        else:
            out[column.name] = str(value)
    return out


def key_value(table: Table, key: str, text: str) -> Any:
    """A key read back from the change table (text) in the key column's type."""
    return int(text) if isinstance(table.c[key].type, Integer) else text


class CaseManagementClient:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)

    def connect(self) -> Connection:
        return self.engine.connect()

    # ----------------------------------------------------------------- structure

    def missing(self, tables: Iterable[Table]) -> list[str]:
        """Tables or columns the database lacks, one line each (empty when all are there)."""
        inspector = inspect(self.engine)
        present = set(inspector.get_table_names())
        problems = []
        for table in tables:
            if table.name not in present:
                problems.append(f"table {table.name} is missing")
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            lacking = [c.name for c in table.columns if c.name not in have]
            if lacking:
                problems.append(f"table {table.name} lacks column(s) {', '.join(lacking)}")
        return problems

    # ----------------------------------------------------------------- reading rows

    @staticmethod
    def _after(table: Table, key: str, mark: Mark, updated: str):
        # a row-value comparison, served by the (updated, key) index
        return row_value(table.c[updated], table.c[key]) > row_value(mark[0], mark[1])

    def rows_after(
        self,
        conn: Connection,
        table: Table,
        key: str,
        mark: Mark | None,
        limit: int,
        updated: str = "last_updated",
    ) -> list[Row]:
        """Rows after ``mark`` in (updated, key) order."""
        q = select(table).order_by(table.c[updated], table.c[key]).limit(limit)
        if mark is not None:
            q = q.where(self._after(table, key, mark, updated))
        return dicts(conn, q)

    def rows_after_key(
        self, conn: Connection, table: Table, key: str, after: Any, limit: int
    ) -> list[Row]:
        """Rows after key ``after`` in key order (the snapshot)."""
        dialect = conn.dialect.name
        if dialect in ("sqlite", "postgresql") and not isinstance(after, dt.date):
            k = conn.dialect.identifier_preparer.quote(key)
            mark = "?" if dialect == "sqlite" else "%s"
            where = "" if after is None else f" WHERE {k} > {mark}"
            sql = f"{select_all(conn, table)}{where} ORDER BY {k} LIMIT {int(limit)}"
            return driver_rows(conn, table, sql, () if after is None else (after,))
        q = select(table).order_by(table.c[key]).limit(limit)
        if after is not None:
            q = q.where(table.c[key] > after)
        return dicts(conn, q)

    def groups_after(
        self, conn: Connection, table: Table, group: str, after: Any, limit: int
    ) -> list[Any]:
        """The next ``limit`` distinct group values (forms) after ``after``, in order."""
        q = select(table.c[group]).distinct().order_by(table.c[group]).limit(limit)
        if after is not None:
            q = q.where(table.c[group] > after)
        return list(conn.execute(q).scalars())

    def rows_where(
        self,
        conn: Connection,
        table: Table,
        column: str,
        values: Iterable[Any],
        columns: Sequence[str] | None = None,
    ) -> list[Row]:
        """Every row whose ``column`` is one of ``values`` (only ``columns`` of it, if given).

        Written as SQL for the driver on SQLite and PostgreSQL: SQLAlchemy binds each value
        of an IN list one by one, which at ten thousand values a batch cost more than the
        query itself (about 5x, measured). Names come from ``ssd.py``, never from input.
        """
        wanted = list({v for v in values if v is not None})
        if not wanted:
            return []
        dialect = conn.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            out: list[Row] = []
            for chunk in chunks(wanted):
                picked = [table.c[n] for n in columns] if columns else [table]
                out.extend(dicts(conn, select(*picked).where(table.c[column].in_(chunk))))
            return out
        quote = conn.dialect.identifier_preparer.quote
        head = f"{select_all(conn, table, columns)} WHERE "
        out = []
        for chunk in chunks(wanted):
            if dialect == "postgresql":
                sql = f"{head}{quote(column)} = ANY(%(v)s)"
                out += driver_rows(conn, table, sql, {"v": list(chunk)}, columns)
            else:
                marks = ", ".join("?" * len(chunk))
                sql = f"{head}{quote(column)} IN ({marks})"
                out += driver_rows(conn, table, sql, chunk, columns)
        return out

    def last_mark(
        self, conn: Connection, table: Table, key: str, updated: str = "last_updated"
    ) -> Mark | None:
        """The (updated, key) of the latest row, or None when the table is empty."""
        latest = conn.execute(select(func.max(table.c[updated]))).scalar()
        if latest is None:
            return None
        top = conn.execute(
            select(func.max(table.c[key])).where(table.c[updated] == latest)
        ).scalar()
        return to_datetime(latest), top

    def count_after(
        self,
        conn: Connection,
        table: Table,
        key: str,
        mark: Mark | None,
        updated: str = "last_updated",
    ) -> int:
        q = select(func.count()).select_from(table)
        if mark is not None:
            q = q.where(self._after(table, key, mark, updated))
        return int(conn.execute(q).scalar_one())

    def count_after_key(self, conn: Connection, table: Table, key: str, after: Any) -> int:
        q = select(func.count()).select_from(table)
        if after is not None:
            q = q.where(table.c[key] > after)
        return int(conn.execute(q).scalar_one())

    # ----------------------------------------------------------------- change table

    def changes_after(self, conn: Connection, seq: int, limit: int) -> list[Row]:
        t = change_table
        q = select(t).where(t.c.chg_seq > seq).order_by(t.c.chg_seq).limit(limit)
        return dicts(conn, q)

    def last_seq(self, conn: Connection) -> int:
        return int(conn.execute(select(func.max(change_table.c.chg_seq))).scalar() or 0)

    def count_changes_after(self, conn: Connection, seq: int) -> int:
        q = select(func.count()).select_from(change_table).where(change_table.c.chg_seq > seq)
        return int(conn.execute(q).scalar_one())

    @staticmethod
    def image(table: Table, text: str | None) -> Row | None:
        """The deleted row the change table's trigger recorded, in Python types."""
        if not text:
            return None
        doc = json.loads(text)
        return coerce(table, doc) if isinstance(doc, dict) else None

    # ----------------------------------------------------------------- enriching rows

    def enrich(self, conn: Connection, mapping: TableMapping, rows: list[Row]) -> None:
        """Add the mapping's lookups, the person's identifiers and the version to each row."""
        if not rows:
            return
        for lookup in mapping.lookups:
            self._lookup(conn, lookup, rows)
        if mapping.person is not None:
            self._people(conn, mapping.person, rows)
        versioned = [lk.name for lk in mapping.lookups if lk.versioned]
        if not versioned:  # the row's own stamp
            for row in rows:
                row["_version"] = to_datetime(row[mapping.updated])
            return
        updated = mapping.updated
        for row in rows:  # the latest of its own stamp and its versioned lookups' rows
            latest = to_datetime(row[updated])
            for name in versioned:
                found = row.get(name)
                if not found:
                    continue
                for r in found if isinstance(found, list) else (found,):
                    when = to_datetime(r["last_updated"])
                    if when > latest:
                        latest = when
            row["_version"] = latest

    def _lookup(self, conn: Connection, lookup: Lookup, rows: list[Row]) -> None:
        found: dict[Any, list[Row]] = defaultdict(list)
        for r in self.rows_where(
            conn, lookup.table, lookup.match, (r.get(lookup.on) for r in rows)
        ):
            found[r[lookup.match]].append(r)
        pk = lookup.table.primary_key.columns[0].name
        several = [group for group in found.values() if len(group) > 1]
        for field in (pk, *reversed(lookup.order_by)):  # stable sorts: the last key leads
            name, desc = field.lstrip("-"), field.startswith("-")
            key = lambda r, n=name: (r[n] is None, r[n])  # noqa: E731
            for group in several:
                group.sort(key=key, reverse=desc)
        for row in rows:
            matches = found.get(row.get(lookup.on), [])
            row[lookup.name] = matches if lookup.many else (matches[0] if matches else None)

    def _people(self, conn: Connection, person: str, rows: list[Row]) -> None:
        """Each row's person id, and that person's NHS number, dates of birth and UPN."""
        if "." in person:
            via, column = person.split(".", 1)
            for row in rows:
                row["_person_id"] = (row.get(via) or {}).get(column)
        else:
            for row in rows:
                row["_person_id"] = row.get(person)
        ids = {r["_person_id"] for r in rows}
        ids.discard(None)
        # (NHS number, date of birth, expected date of birth) by person id
        people: dict[Any, tuple[Any, ...]]
        if person == "pers_person_id":  # the rows are the people themselves
            people = {
                r["pers_person_id"]: (
                    r["pers_common_child_id"],
                    r["pers_dob"],
                    r["pers_expected_dob"],
                )
                for r in rows
            }
        else:
            people = {
                r["pers_person_id"]: (
                    r["pers_common_child_id"],
                    r["pers_dob"],
                    r["pers_expected_dob"],
                )
                for r in self.rows_where(conn, ssd.person, "pers_person_id", ids, PERSON_COLUMNS)
            }
        upns: dict[Any, str] = {}
        for pid, value in self._upns(conn, ids):
            if value and value > upns.get(pid, ""):
                upns[pid] = value
        unknown = (None, None, None)
        for row in rows:
            pid = row["_person_id"]
            row["nhs_number"], row["_dob"], row["_expected_dob"] = people.get(pid, unknown)
            row["upn"] = upns.get(pid)

    def _upns(self, conn: Connection, ids: set[Any]) -> list[tuple[Any, Any]]:
        """(person id, UPN) of every UPN linked to one of ``ids``."""
        links = ssd.linked_identifiers
        dialect = conn.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            return [
                (r["link_person_id"], r["link_identifier_value"])
                for r in self.rows_where(conn, links, "link_person_id", ids, LINK_COLUMNS)
                if r["link_identifier_type"] == UPN_TYPE
            ]
        quote = conn.dialect.identifier_preparer.quote
        head = (
            f"SELECT {quote('link_person_id')}, {quote('link_identifier_value')} "
            f"FROM {quote(links.name)} WHERE {quote('link_identifier_type')} = "
        )
        wanted = list(ids)
        out: list[tuple[Any, Any]] = []
        for chunk in chunks(wanted):
            if dialect == "postgresql":
                sql = f"{head}%(t)s AND {quote('link_person_id')} = ANY(%(v)s)"
                out += driver_tuples(conn, sql, {"t": UPN_TYPE, "v": list(chunk)})
            else:
                sql = f"{head}? AND {quote('link_person_id')} IN ({', '.join('?' * len(chunk))})"
                out += driver_tuples(conn, sql, (UPN_TYPE, *chunk))
        return out
