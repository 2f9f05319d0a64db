"""The cells of an aggregate (pure): the cell store, publications, a batch recomputation.

Used alike by the stream processors (machinery.py) and by `chorus agg rebuild`
(rebuild.py), so a recomputation from the log gives the same cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from streams import disclosure as sdc
from streams.aggregates.engine import (
    SUBJECT_CHARS,
    AggregateSpec,
    Contributions,
    Shape,
    Shaped,
    apply,
    contributions,
    decoded_name,
    reads,
    subject_of,
)
from streams.aggregates.publication import Summary, Table, publish_table


def split_cell_key(spec: AggregateSpec, key: str) -> tuple[Table, tuple[str, ...]]:
    """A cell key's table and dimensions (remembered: each publication reads every key)."""
    known = _split_keys(spec)
    found = known.get(key)
    if found is None:
        parts = tuple(key.split("|"))
        if len(spec.tables) == 1 and not spec.tables[0].key_prefix:
            found = spec.tables[0], parts
        else:
            found = spec.table(parts[0]), parts[1:]
        known[key] = found
    return found


@cache
def _split_keys(spec: AggregateSpec) -> dict[str, tuple[Table, tuple[str, ...]]]:
    return {}  # a cell once made stays: as many keys as cells


@dataclass
class _Pending:
    """How the subjects of one shape changed since the cells were last brought up to date:
    how many came (less those that left), and their record keys added up per unit."""

    shape: Shape
    n: int = 0
    keys: dict[str | None, int] = field(default_factory=dict)


@dataclass
class CellStore:
    """Every cell's summary, and each subject's current contributions.

    A cell's members are known from the subjects' contributions, so a cell keeps only
    its :class:`Summary`, brought up to date as members come and go: a publication
    costs what changed, not the size of the cells. For an aggregate with a shape, the
    subjects of each shape are counted (with their record keys added up), and the
    cells follow those counts at the next summaries(), once per shape, however many
    subjects came and went.

    Everything here follows from the subjects' facts (their contributions) but one
    thing: which cells have ever had members. A cell every member left stays, and
    is published as a true zero, so a subscriber never keeps a stale figure. The
    stream keeps those cell keys in the compacted ``<app>-<aggregate>-cell-keys-changelog``
    (replace() returns the cells it made), and after a restart loads them (load())
    before the subjects' contributions are put back (reconcile()).
    """

    spec: AggregateSpec
    record_key: Callable[[str], int]
    subjects: dict[str, Contributions] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)  # cell keys changed since the last summary
    touched: set[str] = field(default_factory=set)  # tables with cells summarised anew
    _summaries: dict[str, Summary] = field(default_factory=dict)
    _shapes: set[Hashable] = field(default_factory=set)  # whose cells are known
    _pending: dict[Hashable, _Pending] = field(default_factory=dict)

    def load(self, cell_keys: Iterable[str]) -> None:
        """Start again from these known cells, empty (after recovery: reconcile() next)."""
        self._summaries = {key: Summary() for key in cell_keys}
        self.subjects = {}
        self._shapes = set()
        self._pending = {}
        self.dirty = set(self._summaries)

    def replace(self, subject: str, new: Contributions) -> set[str]:
        """Make ``new`` the subject's contributions; returns the cells made (new cell keys)."""
        sub = subject[:SUBJECT_CHARS]
        old = self.subjects.get(sub)
        if new.__class__ is Shaped or old.__class__ is Shaped:
            made = self._replace_shaped(sub, old, new)
        else:
            made = self._replace_members(old or {}, new)
        if not new:
            self.subjects.pop(sub, None)
        elif new.__class__ is Shaped:
            self.subjects[sub] = new  # shared by subjects alike: never changed
        else:
            self.subjects[sub] = dict(new)  # member values are never changed in place
        return made

    def _replace_members(self, old: Contributions, new: Contributions) -> set[str]:
        """The stream calls this for every changed child of every batch, for a few dozen
        cells each: hence the local names and the record keys looked up once per call."""
        empty: Mapping[str, Any] = {}
        if old:
            changed_cells = [
                c for c in old.keys() | new.keys() if old.get(c, empty) != new.get(c, empty)
            ]
        else:
            changed_cells = list(new)
        summaries, dirty, record_key = self._summaries, self.dirty, self.record_key
        keys: dict[str, int] = {}  # the members' record keys, looked up once per call
        made: set[str] = set()
        for cell in changed_cells:
            summary = summaries.get(cell)
            if summary is None:
                summary = summaries[cell] = Summary()
                made.add(cell)
            dirty.add(cell)
            for member, values in old.get(cell, empty).items():
                key = keys.get(member)
                if key is None:
                    key = keys[member] = record_key(member)
                summary.remove_member(values, key)
            for member, values in new.get(cell, empty).items():
                key = keys.get(member)
                if key is None:
                    key = keys[member] = record_key(member)
                summary.add_member(values, key)
        return made

    def _replace_shaped(self, sub: str, old: Any, new: Any) -> set[str]:
        if old.__class__ is Shaped and new.__class__ is Shaped and old.shape.key == new.shape.key:
            return set()  # the same cells and members: nothing changes
        made: set[str] = set()
        for contrib, sign in ((old, -1), (new, 1)):
            if contrib.__class__ is not Shaped:
                continue  # none (a subject not yet counted, or leaving every cell)
            shape = contrib.shape
            if shape.key not in self._shapes:
                self._shapes.add(shape.key)
                for cell, _, _ in shape.cells:
                    if cell not in self._summaries:
                        self._summaries[cell] = Summary()
                        made.add(cell)
            pending = self._pending.get(shape.key)
            if pending is None:
                pending = self._pending[shape.key] = _Pending(shape)
            pending.n += sign
            for unit in shape.units:
                key = self.record_key(shape.member(sub, unit))
                pending.keys[unit] = pending.keys.get(unit, 0) + sign * key
        return made

    def reconcile(self, contributions: Mapping[str, Contributions]) -> set[str]:
        """Make the store hold exactly these subjects' contributions (subject -> cell ->
        member -> values); returns the cells made. After a restore (load()), this puts the
        subjects' contributions back into the known cells."""
        made: set[str] = set()
        for some in self.reconciling(contributions):
            made |= some
        return made

    def reconciling(
        self, contributions: Mapping[str, Contributions], every: int = 2000
    ) -> Iterator[set[str]]:
        """reconcile() a step at a time: the cells made by each ``every`` subjects, so a
        caller in an event loop can let other tasks (Kafka heartbeats) run between them."""
        wanted = {s[:SUBJECT_CHARS]: c for s, c in contributions.items()}
        made: set[str] = set()
        for n, sub in enumerate([s for s in self.subjects if s not in wanted], 1):
            made |= self.replace(sub, {})
            if not n % every:
                yield made
                made = set()
        for n, (sub, contrib) in enumerate(wanted.items(), 1):
            if not _same(self.subjects.get(sub, {}), contrib):
                made |= self.replace(sub, contrib)
            if not n % every:
                yield made
                made = set()
        yield made

    def summaries(self) -> dict[str, Summary]:
        """cell key -> summary, every cell's up to date (an emptied cell stays, and is
        published as a true zero). The tables of the cells changed since the last call
        are added to ``touched``."""
        summaries, dirty = self._summaries, self.dirty
        for pending in self._pending.values():
            for cell, unit, values in pending.shape.cells:
                key = pending.keys.get(unit, 0)
                if pending.n or key:
                    summaries[cell].add_members(values, pending.n, key)
                    dirty.add(cell)
        self._pending = {}
        for cell in dirty:
            self.touched.add(split_cell_key(self.spec, cell)[0].name)
        self.dirty = set()
        return summaries

    @property
    def cells(self) -> dict[str, dict[str, Any]]:
        """cell key -> member -> values, every known cell (made from the subjects: slow)."""
        out: dict[str, dict[str, Any]] = {key: {} for key in self._summaries}
        for contrib in self.subjects.values():
            for cell, members in contrib.items():
                out[cell].update(members)
        return out

    def members(self) -> dict[str, dict[str, Any]]:
        """cell key -> member -> values, for the cells that have members."""
        return {c: m for c, m in self.cells.items() if m}

    def counts(self) -> dict[str, int]:
        """Each cell's number of members (the raw count before disclosure control)."""
        return {c: len(m) for c, m in self.cells.items()}


def _same(a: Contributions, b: Contributions) -> bool:
    if a.__class__ is Shaped and b.__class__ is Shaped:
        return a.sub == b.sub and a.shape.key == b.shape.key
    return a == b


def by_table(
    spec: AggregateSpec, summaries: Mapping[str, Summary]
) -> dict[str, dict[tuple[str, ...], Summary]]:
    """table name -> dims -> summary."""
    out: dict[str, dict[tuple[str, ...], Summary]] = {t.name: {} for t in spec.tables}
    for key, summary in summaries.items():
        table, dims = split_cell_key(spec, key)
        out[table.name][dims] = summary
    return out


def published_cells(
    spec: AggregateSpec,
    summaries: Mapping[str, Summary],
    rules: sdc.Rules,
    only: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The aggregate's cells (of the tables named in ``only``, or all) as published,
    without the publication record."""
    method = rules.method_for(spec.name)
    out: dict[str, dict[str, Any]] = {}
    tables = by_table(spec, summaries)
    names = set(tables) if only is None else set(only)
    for table in spec.tables:
        if table.name not in names:
            continue
        for cell in publish_table(table, tables[table.name], rules, method).values():
            out[cell["cell_key"]] = {"aggregate": spec.name, **cell}
    return out


def publication(rules: sdc.Rules, method: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "sequence": int(now.timestamp() * 1000),
        "published_at": now,
        "rules": rules.text(method),
        "policy_revision": rules.revision,
        "method": method,
        "parameters": rules.parameters(),
    }


@dataclass
class Publisher:
    """Which cells changed since the last publication; a cell unchanged is not sent again."""

    spec: AggregateSpec
    last: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: sdc.Rules | None = None

    def changed(self, store: CellStore, rules: sdc.Rules, now: dt.datetime) -> list[dict]:
        """The cells to send now: those of the tables whose cells changed (every table when
        the rules changed), when their published form differs from the last one sent."""
        summaries = store.summaries()
        if rules != self.rules:
            self.last.clear()  # new rules: every cell is published again under them
            only = None
        else:
            only = set(store.touched)
        store.touched.clear()
        self.rules = rules
        pub = publication(rules, rules.method_for(self.spec.name), now)
        out = []
        for key, cell in sorted(published_cells(self.spec, summaries, rules, only).items()):
            if self.last.get(key) == cell:
                continue
            out.append({**cell, "publication": pub})
            self.last[key] = cell
        return out

    def forget(self) -> None:
        """Publish every cell again at the next tick (after a restart or rebalance)."""
        self.last.clear()
        self.rules = None


def recompute(
    spec: AggregateSpec,
    messages: Iterable[tuple[str, Mapping[str, Any]]],
    record_key: Callable[[str], int],
) -> CellStore:
    """The cells from decoded messages (event type, record), outside the stream."""
    states: dict[str, dict[str, Any]] = {}
    for event_type, record in messages:
        if not reads(spec, event_type):
            continue
        subject = subject_of(spec, record)
        states[subject] = apply(spec, states.get(subject), decoded_name(event_type), record)
    store = CellStore(spec, cache(record_key))
    for subject, state in states.items():
        contrib = contributions(spec, subject, state)
        if contrib:
            store.replace(subject, contrib)
    return store
