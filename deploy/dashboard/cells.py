"""The latest published cell of every aggregate, as the dashboard holds it (pure).

The ``chorus.agg.<name>`` topics are compacted and keyed by cell key: the
latest message of a key is the cell, and a tombstone (a null value) removes
it. The store keeps one JSON-ready cell per (aggregate, cell key), the time of
the newest publication it has seen, and the counts the dashboard's metrics
report. It holds only what was published (after disclosure control).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SUPPRESSED = "SUPPRESSED"


def cell_id(aggregate: str, cell_key: str) -> str:
    """The dashboard's id of a cell: unique across aggregates."""
    return f"{aggregate}/{cell_key}"


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def to_json(cell: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``platform.aggregate_cell`` as JSON-ready data, with its dashboard id."""
    publication = dict(cell["publication"])
    publication["published_at"] = _iso(publication.get("published_at"))
    return {
        "id": cell_id(cell["aggregate"], cell["cell_key"]),
        "aggregate": cell["aggregate"],
        "cell_key": cell["cell_key"],
        "table": cell.get("table"),
        "dimensions": dict(cell.get("dimensions") or {}),
        "measures": [dict(m) for m in cell.get("measures") or []],
        "statements": [dict(s) for s in cell.get("statements") or []],
        "annotations": dict(cell.get("annotations") or {}),
        "publication": publication,
    }


def suppressed_measures(cell: dict[str, Any]) -> int:
    return sum(1 for m in cell["measures"] if m.get("status") == SUPPRESSED)


@dataclass
class Changes:
    """What one batch of messages changed: cells added or replaced, and ids removed."""

    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removed)

    def as_event(self, last_published: str | None) -> dict[str, Any]:
        return {
            "upserts": list(self.upserts.values()),
            "removed": sorted(self.removed),
            "last_published": last_published,
        }


@dataclass
class CellStore:
    """The latest cell per (aggregate, cell key)."""

    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_published: str | None = None

    def put(self, aggregate: str, cell_key: str, cell: dict[str, Any] | None, changes: Changes):
        """Keep ``cell`` (decoded, or None for a tombstone) as the cell of that key."""
        cid = cell_id(aggregate, cell_key)
        if cell is None:
            if self.cells.pop(cid, None) is not None:
                changes.removed.add(cid)
            changes.upserts.pop(cid, None)
            return
        shown = to_json(cell)
        self.cells[cid] = shown
        changes.upserts[cid] = shown
        changes.removed.discard(cid)
        published = shown["publication"].get("published_at")
        if published and (self.last_published is None or published > self.last_published):
            self.last_published = published

    def snapshot(self) -> dict[str, Any]:
        return {
            "cells": list(self.cells.values()),
            "last_published": self.last_published,
        }

    def held(self) -> Counter[str]:
        """Cells held per aggregate."""
        return Counter(c["aggregate"] for c in self.cells.values())

    def suppressed(self) -> tuple[Counter[str], Counter[str]]:
        """Per aggregate: cells held with a suppressed value, and suppressed values shown."""
        cells: Counter[str] = Counter()
        values: Counter[str] = Counter()
        for c in self.cells.values():
            n = suppressed_measures(c)
            if n:
                cells[c["aggregate"]] += 1
                values[c["aggregate"]] += n
        return cells, values
