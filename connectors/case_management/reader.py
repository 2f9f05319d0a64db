"""The three ways the connector follows the database, and the position document they share.

- **incremental**: per table, rows after a high-water mark ``(last_updated, key)``.
  Rows of tables a mapping reads beside its own (a ``versioned`` lookup: factors,
  disabilities, domains, the episode's placement) have marks too, and a change to
  one re-publishes the row it belongs to. Incremental mode cannot see deletions:
  a deleted row simply stops appearing. Use change-table mode for those.
- **snapshot**: every row once, table by table in key order (forms by form id),
  then incremental from the marks taken when the snapshot began, so nothing
  changed during the snapshot is missed.
- **changes**: a snapshot, then the change table (:mod:`.changes`) in sequence
  order; inserts and updates re-read the row, deletions become PURGE events.

The position is one JSON document, stored by the runner only after Kafka has
acknowledged the batch::

    {"format": 2, "phase": "snapshot" | "incremental" | "changes",
     "marks": {"ssd_person": ["2026-03-01T02:00:00", "C0000042"],
               "ssd_person/ssd_disability": [...], ...},
     "snapshot": {"table": "ssd_contacts", "after": "CT00001234"} | null,
     "seq": 1234 | null}

The single-table position of earlier versions (``{"last_updated", "key"}``, the
referral mark) is read as the ``ssd_cin_episodes`` mark.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from connectors.case_management.client import CaseManagementClient, Row, key_value, to_datetime
from connectors.case_management.mappings import TABLE_NAMES, Lookup, TableMapping

MODES = ("incremental", "snapshot", "changes")
#: Rows per form assumed when sizing a snapshot batch of forms.
ANSWERS_PER_FORM = 8


@dataclass
class Work:
    """Rows (enriched) for one mapping, and what happened to them."""

    mapping: TableMapping
    rows: list[Row]
    operation: str = "UPSERT"
    seq: int | None = None
    changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Dependent:
    """A table a mapping reads beside its own rows; its changes re-publish those rows."""

    parent: TableMapping
    lookup: Lookup

    @property
    def name(self) -> str:
        return f"{self.parent.name}/{self.lookup.table.name}"

    @property
    def table(self) -> Table:
        return self.lookup.table

    @property
    def key(self) -> str:
        return next(iter(self.lookup.table.primary_key.columns)).name

    updated = "last_updated"


@dataclass
class Position:
    phase: str
    marks: dict[str, list | None] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None
    seq: int | None = None

    @classmethod
    def load(cls, doc: dict[str, Any] | None) -> Position | None:
        if not doc:
            return None
        if "format" not in doc and "last_updated" in doc:  # the referral-only position
            return cls("incremental", {"ssd_cin_episodes": [doc["last_updated"], doc["key"]]})
        return cls(doc["phase"], dict(doc.get("marks") or {}), doc.get("snapshot"), doc.get("seq"))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 2,
            "phase": self.phase,
            "marks": self.marks,
            "snapshot": self.snapshot,
            "seq": self.seq,
        }

    def mark(self, name: str) -> tuple[dt.datetime, Any] | None:
        found = self.marks.get(name)
        return None if not found else (to_datetime(found[0]), found[1])

    def set_mark(self, name: str, mark: tuple[Any, Any] | None) -> None:
        self.marks[name] = None if mark is None else [to_datetime(mark[0]).isoformat(), mark[1]]


def _group_rows(mapping: TableMapping, rows: list[Row]) -> list[Row]:
    """Answer rows grouped into forms: the first answer's columns, all answers, latest stamp."""
    groups: dict[Any, Row] = {}
    key, group, stamp = mapping.key, mapping.group, mapping.updated
    for row in sorted(rows, key=lambda r: r[key]):  # later answers win
        when = to_datetime(row[stamp])
        g = groups.get(row[group])
        if g is None:
            g = groups[row[group]] = {**row, "answers": [], stamp: when}
        elif when > g[stamp]:
            g[stamp] = when
        g["answers"].append(row)
    return list(groups.values())


class Reader:
    def __init__(
        self, client: CaseManagementClient, mappings: tuple[TableMapping, ...], mode: str
    ) -> None:
        self.client = client
        self.mappings = mappings
        self.mode = mode
        self.dependents = tuple(
            Dependent(m, lk) for m in mappings for lk in m.lookups if lk.versioned
        )

    # ----------------------------------------------------------------- public

    def read(self, doc: dict[str, Any] | None, limit: int) -> tuple[list[Work], dict, int] | None:
        """Work for the next ``limit`` source records, the position after them, and how many.

        None when nothing is new and the position has not moved.
        """
        with self.client.connect() as conn:
            pos = Position.load(doc) or self._start(conn)
            self._adjust(conn, pos)
            works: list[Work] = []
            read = 0
            if pos.phase == "snapshot":
                read += self._snapshot(conn, pos, limit, works)
            if pos.phase == "incremental" and read < limit:
                read += self._incremental(conn, pos, limit - read, works)
            elif pos.phase == "changes" and read < limit:
                read += self._changes(conn, pos, limit - read, works)
        new = pos.to_json()
        if read == 0 and new == doc:
            return None
        return works, new, read

    def lag(self, doc: dict[str, Any] | None) -> int:
        with self.client.connect() as conn:
            pos = Position.load(doc)
            if pos is None:
                return sum(
                    self.client.count_after(conn, m.table, m.key, None) for m in self.mappings
                )
            total = 0
            if pos.phase == "snapshot" and pos.snapshot is not None:
                start, after = self._snapshot_at(pos)
                for i, m in enumerate(self.mappings[start:]):
                    column = m.group if m.group else m.key
                    total += self.client.count_after_key(
                        conn, m.table, column, after if i == 0 else None
                    )
            elif pos.phase == "incremental":
                for m in self.mappings:
                    total += self.client.count_after(
                        conn, m.table, m.key, pos.mark(m.name), m.updated
                    )
                for d in self.dependents:
                    if d.name in pos.marks:
                        total += self.client.count_after(
                            conn, d.table, d.key, pos.mark(d.name), d.updated
                        )
            if pos.seq is not None:
                total += self.client.count_changes_after(conn, pos.seq)
            return total

    # ----------------------------------------------------------------- starting

    def _start(self, conn: Connection) -> Position:
        if self.mode == "incremental":
            pos = Position("incremental")
            for d in self.dependents:  # parents will be read whole; only later changes count
                pos.set_mark(d.name, self.client.last_mark(conn, d.table, d.key, d.updated))
            return pos
        pos = Position("snapshot", snapshot={"table": self.mappings[0].name, "after": None})
        for source in (*self.mappings, *self.dependents):
            pos.set_mark(
                source.name, self.client.last_mark(conn, source.table, source.key, source.updated)
            )
        if self.mode == "changes":
            pos.seq = self.client.last_seq(conn)
        return pos

    def _adjust(self, conn: Connection, pos: Position) -> None:
        """Follow a change of mode, and initialise marks of tables newly selected."""
        if pos.phase == "incremental" and self.mode == "changes":
            pos.phase, pos.seq = "changes", self.client.last_seq(conn)
        elif pos.phase == "changes" and self.mode != "changes":
            pos.phase = "incremental"
            for source in (*self.mappings, *self.dependents):
                pos.set_mark(
                    source.name,
                    self.client.last_mark(conn, source.table, source.key, source.updated),
                )
        if pos.phase == "incremental":
            for d in self.dependents:
                if d.name not in pos.marks:
                    pos.set_mark(d.name, self.client.last_mark(conn, d.table, d.key, d.updated))

    # ----------------------------------------------------------------- snapshot

    def _snapshot_at(self, pos: Position) -> tuple[int, Any]:
        """The index of the table the snapshot is in, and the key it is after.

        When the table is no longer selected, the snapshot goes on with the next one.
        """
        name = (pos.snapshot or {}).get("table")
        order = {n: i for i, n in enumerate(TABLE_NAMES)}
        wanted = order.get(name, 0)
        for i, m in enumerate(self.mappings):
            if order[m.name] >= wanted:
                return i, (pos.snapshot or {}).get("after") if m.name == name else None
        return len(self.mappings), None

    def _snapshot(self, conn: Connection, pos: Position, limit: int, works: list[Work]) -> int:
        read = 0
        while read < limit and pos.snapshot is not None:
            index, after = self._snapshot_at(pos)
            if index >= len(self.mappings):
                pos.snapshot = None
                pos.phase = "changes" if self.mode == "changes" else "incremental"
                break
            m = self.mappings[index]
            room = limit - read
            if m.group:
                groups = self.client.groups_after(
                    conn, m.table, m.group, after, max(1, room // ANSWERS_PER_FORM)
                )
                rows = self.client.rows_where(conn, m.table, m.group, groups) if groups else []
                last = groups[-1] if groups else None
            else:
                rows = self.client.rows_after_key(conn, m.table, m.key, after, room)
                last = rows[-1][m.key] if rows else None
            if rows:
                read += len(rows)
                works.append(self._work(conn, m, rows))
                pos.snapshot = {"table": m.name, "after": last}
            if not rows or (not m.group and len(rows) < room):  # this table is done
                if index + 1 < len(self.mappings):
                    pos.snapshot = {"table": self.mappings[index + 1].name, "after": None}
                else:
                    pos.snapshot = None
                    pos.phase = "changes" if self.mode == "changes" else "incremental"
        return read

    # ----------------------------------------------------------------- incremental

    def _incremental(self, conn: Connection, pos: Position, limit: int, works: list[Work]) -> int:
        read = 0
        for source in (*self.mappings, *self.dependents):
            if read >= limit:
                break
            rows = self.client.rows_after(
                conn, source.table, source.key, pos.mark(source.name), limit - read, source.updated
            )
            if not rows:
                continue
            read += len(rows)
            pos.set_mark(source.name, (rows[-1][source.updated], rows[-1][source.key]))
            if isinstance(source, Dependent):
                works.append(self._parents(conn, source, rows))
            elif source.group:
                keys = {r[source.group] for r in rows}
                works.append(
                    self._work(
                        conn, source, self.client.rows_where(conn, source.table, source.group, keys)
                    )
                )
            else:
                works.append(self._work(conn, source, rows))
        return read

    # ----------------------------------------------------------------- change table

    def _changes(self, conn: Connection, pos: Position, limit: int, works: list[Work]) -> int:
        entries = self.client.changes_after(conn, pos.seq or 0, limit)
        if not entries:
            return 0
        pos.seq = entries[-1]["chg_seq"]
        by_table: dict[str, list[Row]] = defaultdict(list)
        for e in entries:
            by_table[e["chg_table"]].append(e)
        for m in self.mappings:
            if m.name in by_table:
                self._changed(conn, m, by_table[m.name], works)
        for d in self.dependents:
            found = by_table.get(d.table.name)
            if found:
                keys = [
                    key_value(d.table, d.key, e["chg_key"]) for e in found if e["chg_op"] != "D"
                ]
                rows = self.client.rows_where(conn, d.table, d.key, keys)
                rows += [
                    img
                    for e in found
                    if e["chg_op"] == "D"
                    and (img := self.client.image(d.table, e["chg_row_image"]))
                ]
                if rows:
                    works.append(self._parents(conn, d, rows))
        return len(entries)

    def _changed(
        self, conn: Connection, m: TableMapping, entries: list[Row], works: list[Work]
    ) -> None:
        """Purges for deleted rows (from their images), then the current state of the rest."""
        keys = [key_value(m.table, m.key, e["chg_key"]) for e in entries if e["chg_op"] != "D"]
        current = self.client.rows_where(conn, m.table, m.key, keys)
        deleted: list[tuple[Row, Row | None]] = [
            (e, self.client.image(m.table, e["chg_row_image"]))
            for e in entries
            if e["chg_op"] == "D"
        ]
        purges: list[tuple[Row, list[Row]]] = []
        if m.group:
            groups = {r[m.group] for r in current} | {i[m.group] for _, i in deleted if i}
            current = self.client.rows_where(conn, m.table, m.group, groups)
            alive = {r[m.group] for r in current}
            gone: dict[Any, tuple[Row, list[Row]]] = {}
            for e, image in deleted:
                if image is None:
                    purges.append((e, []))
                elif image[m.group] not in alive:  # the whole form went
                    last, images = gone.get(image[m.group], (e, []))
                    gone[image[m.group]] = (
                        max(last, e, key=lambda x: x["chg_seq"]),
                        images + [image],
                    )
            purges += [(e, _group_rows(m, images)) for e, images in gone.values()]
        else:
            purges = [(e, [image] if image else []) for e, image in deleted]
        for e, rows in purges:
            if rows:
                self.client.enrich(conn, m, rows)
            else:  # the trigger recorded no row image: nothing says whose record it was
                rows = [{m.key: e["chg_key"], "_missing_image": True}]
            works.append(Work(m, rows, "PURGE", e["chg_seq"], to_datetime(e["chg_changed_at"])))
        if current:
            works.append(self._work(conn, m, current))

    # ----------------------------------------------------------------- helpers

    def _work(self, conn: Connection, m: TableMapping, rows: list[Row]) -> Work:
        rows = _group_rows(m, rows) if m.group else rows
        self.client.enrich(conn, m, rows)
        return Work(m, rows)

    def _parents(self, conn: Connection, d: Dependent, rows: list[Row]) -> Work:
        values = {r[d.lookup.match] for r in rows}
        parents = self.client.rows_where(conn, d.parent.table, d.lookup.on, values)
        return self._work(conn, d.parent, parents)
