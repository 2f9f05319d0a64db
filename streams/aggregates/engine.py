"""How an aggregate's state changes (pure): one subject's facts, and the cells they fill.

Used alike by the stream processors (machinery.py) and by the batch recomputation
(rebuild.py), so a recomputation from the log gives the same cells.

- A *subject* is whatever the input topics are keyed by: a child (the person
  pseudonym of a shared event) or, for the information map, an event id.
- A subject's *state* holds its current *facts*: one small dict per record and
  event type (the fields the aggregate needs from the latest version of that
  record), plus the withdrawal in force for it, if any.
- From the facts a pure function gives the subject's *contributions*: for each
  cell, for each member (the child, or one of its records), a dict of numbers.
- The cell store (cellstore.py) holds each cell's summary, and knows each subject's
  contributions so a new set replaces the old one exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, cast

from schemas import topics
from schemas.errors import ContractError
from streams.aggregates.publication import Table

PURPOSE = "strategic_reporting"
SUBJECT_CHARS = 16  # of the 32-character pseudonyms: collisions are negligible per aggregate
WITHDRAWN = "subject_withdrawn"
EVERYTHING = "*"

Facts = Mapping[str, Mapping[str, Any]]
Contribution = tuple[str, tuple[str, ...], str | None, dict[str, Any]]  # table, dims, unit, values
Contributions = Mapping[str, Mapping[str, Mapping[str, Any]]]  # cell key -> member -> values


@dataclass(frozen=True, eq=False)  # hashed by identity: specs key per-spec caches
class AggregateSpec:
    """One live aggregate.

    ``events`` are the share topics' event names (``referral``) it reads, or
    ``ledger``; ``fact`` turns one shared event into the fact the aggregate keeps
    (None to keep nothing); ``cells`` turns a subject's facts into contributions
    ``(table, dims, unit, values)``, where ``unit`` is None when the member is
    the subject itself, or a record's key when each record counts apart.
    """

    name: str
    events: tuple[str, ...]
    tables: tuple[Table, ...]
    fact: Callable[[str, Mapping[str, Any]], dict[str, Any] | None]
    cells: Callable[[Facts], Iterable[Contribution]]
    # What ``cells`` reads of the facts, when that is much less than the facts and often
    # the same across subjects: the cells' values are then remembered per shape.
    shape: Callable[[Facts], Hashable] | None = None
    withdrawals: bool = True  # honours subject_withdrawn (every aggregate of shared events)
    doc: str = ""
    # Per decoded event type, top-level fields ``fact`` takes either decoded or as a
    # schemas.codec.RawField (hashable Avro bytes; ``.value()`` decodes), so the intake may
    # leave them undecoded. The batch recomputation passes them decoded.
    raw_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property  # read for every event
    def from_ledger(self) -> bool:
        return self.events == ("ledger",)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def input_topics(spec: AggregateSpec, prefix: str = "") -> list[str]:
    """The topics an aggregate reads: only strategic reporting share topics (or the ledger)."""
    if spec.from_ledger:
        return [topics.ledger_topic(prefix)]
    names = [topics.share_topic(PURPOSE, e, prefix) for e in spec.events]
    if spec.withdrawals:
        names.append(withdrawn_topic(prefix))
    return names


def withdrawn_topic(prefix: str = "") -> str:
    return topics.share_topic(PURPOSE, WITHDRAWN, prefix)


# --- subjects and facts -------------------------------------------------------------------


def event_name(event_type: str) -> str:
    """``case_management.referral`` -> ``referral`` (share topics are named by it)."""
    return event_type.rsplit(".", 1)[-1]


@cache
def decoded_name(event_type: str) -> str:
    """The name apply() expects for a decoded message's event type (a shared event's name,
    ``ledger`` or ``subject_withdrawn``)."""
    return "ledger" if event_type == "platform.ledger_entry" else event_name(event_type)


@cache
def reads(spec: AggregateSpec, event_type: str) -> bool:
    """Whether the aggregate reads messages of this (decoded) event type."""
    name = decoded_name(event_type)
    if spec.from_ledger:
        return name == "ledger"
    return name in spec.events or (spec.withdrawals and name == WITHDRAWN)


def subject_of(spec: AggregateSpec, record: Mapping[str, Any]) -> str:
    if spec.from_ledger:
        return record["event_id"]
    if "share" not in record:  # a subject_withdrawn control message
        return record["person_pseudonym"]
    share = record["share"]
    return share["person_pseudonym"] or share["record_pseudonym"]


def fact_key(spec: AggregateSpec, name: str, record: Mapping[str, Any]) -> str:
    if spec.from_ledger:
        return f"{record['recipient']}|{record['purpose']}"
    return f"{record['share']['record_pseudonym'][:SUBJECT_CHARS]}:{name}"


def ms(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return int(value or 0)


def apply(
    spec: AggregateSpec,
    state: Mapping[str, Any] | None,
    name: str,
    record: Mapping[str, Any],
    in_place: bool = False,
) -> dict[str, Any]:
    """The subject's state after one decoded event (a shared event, ledger entry or withdrawal).

    ``state`` is left as it was, unless ``in_place`` (a state this caller made itself).
    """
    if in_place and state is not None and "f" in state:
        state = cast(dict[str, Any], state)
        facts = state["f"]
    else:
        state = dict(state or {})
        facts = dict(state.get("f") or {})
        state["f"] = facts
    if name == WITHDRAWN:
        return _withdraw(state, record)
    ledger = spec.from_ledger
    key = fact_key(spec, name, record)
    if not ledger and (record["share"]["operation"] == "PURGE" or withdrawn(state, name, key)):
        facts.pop(key, None)
        return state
    fact = spec.fact(name, record)
    if fact is None:
        facts.pop(key, None)
    else:
        when = ms(record["decided_at"] if ledger else record["share"]["event_time"])
        facts[key] = {"e": name, "t": when, **fact}
    return state


def withdrawn(state: Mapping[str, Any], name: str, key: str) -> bool:
    w = state.get("w")
    if not w:
        return False
    if name not in w["types"] and EVERYTHING not in w["types"]:
        return False
    return not w["records"] or key.split(":", 1)[0] in w["records"]


def _withdraw(state: dict[str, Any], message: Mapping[str, Any]) -> dict[str, Any]:
    at = ms(message["effective_at"])
    if state.get("w") and state["w"]["at"] > at:
        return state  # an older message than the one in force
    types = sorted({event_name(t) if t != EVERYTHING else t for t in message["event_types"]})
    records = sorted(r[:SUBJECT_CHARS] for r in message.get("record_pseudonyms") or [])
    if not types:
        state.pop("w", None)
        return state
    state["w"] = {"types": types, "records": records, "at": at}
    state["f"] = {k: f for k, f in state["f"].items() if not withdrawn(state, f["e"], k)}
    return state


# --- contributions ------------------------------------------------------------------------


def contributions(
    spec: AggregateSpec, subject: str, state: Mapping[str, Any] | None
) -> Contributions:
    """cell key -> member -> values, for one subject's current facts.

    For an aggregate with a ``shape`` this is a :class:`Shaped`: the same mapping, made
    only when read, since the cell store needs no more than the shape and the subject.
    """
    facts = (state or {}).get("f") or {}
    if not facts:
        return {}
    sub = subject[:SUBJECT_CHARS]
    if spec.shape is None:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        _fill(out, spec, facts, sub)
        return out
    return Shaped(sub, _remembered(spec, facts))


def _fill(
    out: dict[str, dict[str, dict[str, Any]]], spec: AggregateSpec, facts: Facts, sub: str
) -> None:
    tables = _tables(spec)
    for table, dims, unit, values in spec.cells(facts):
        values = {k: v for k, v in values.items() if v}
        if not values:
            continue
        member = sub if unit is None else f"{sub}:{unit[:SUBJECT_CHARS]}"
        for key in tables[table].cell_keys(tuple(dims)):
            cell = out.get(key)
            if cell is None:
                out[key] = {member: values}  # shared by its totals: never changed in place
            elif member in cell:  # one member twice in a cell (and in totals): add up
                cell[member] = _added(cell[member], values)
            else:
                cell[member] = values


class Shape:
    """The contributions of every subject whose facts have one shape: ``cells`` are
    (cell key, unit, values), each unit once per cell, alike for all those subjects."""

    __slots__ = ("key", "cells", "units")

    def __init__(self, key: Hashable, cells: list[tuple[str, str | None, dict[str, Any]]]):
        self.key = key
        self.cells = cells
        self.units = tuple(dict.fromkeys(unit for _, unit, _ in cells))
        if any("_s" in values for _, _, values in cells):
            raise ValueError("statements are per member: an aggregate with them has no shape")

    def member(self, sub: str, unit: str | None) -> str:
        return sub if unit is None else f"{sub}:{unit}"


class Shaped(Mapping[str, Mapping[str, Mapping[str, Any]]]):  # a Contributions
    """One subject's contributions as a :class:`Shape` gives them (cell -> member -> values,
    made when read: the cell store counts the subjects of each shape instead)."""

    __slots__ = ("sub", "shape")

    def __init__(self, sub: str, shape: Shape) -> None:
        self.sub = sub
        self.shape = shape

    def _made(self) -> dict[str, dict[str, Mapping[str, Any]]]:
        out: dict[str, dict[str, Mapping[str, Any]]] = {}
        for key, unit, values in self.shape.cells:
            out.setdefault(key, {})[self.shape.member(self.sub, unit)] = values
        return out

    def __getitem__(self, key: str) -> Mapping[str, Mapping[str, Any]]:
        return self._made()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())

    def __bool__(self) -> bool:
        return bool(self.shape.cells)

    def __repr__(self) -> str:
        return f"Shaped({self.sub!r}, {len(self.shape.cells)} contributions)"


SHAPES_KEPT = 4096  # per aggregate; forgotten all at once when full


@cache
def _shapes(spec: AggregateSpec) -> dict[Hashable, Shape]:
    return {}


def _remembered(spec: AggregateSpec, facts: Facts) -> Shape:
    """The shape of these facts (its contributions worked out once)."""
    assert spec.shape is not None
    key = spec.shape(facts)
    known = _shapes(spec)
    found = known.get(key)
    if found is None:
        if len(known) >= SHAPES_KEPT:
            known.clear()
        cells: dict[str, dict[str, dict[str, Any]]] = {}
        _fill(cells, spec, facts, "")
        found = known[key] = Shape(
            key,
            [
                (cell, member.split(":", 1)[1] if member else None, values)
                for cell, members in cells.items()
                for member, values in members.items()
            ],
        )
    return found


@cache
def _tables(spec: AggregateSpec) -> dict[str, Table]:
    return {t.name: t for t in spec.tables}


def _added(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, []) + v if k == "_s" else out.get(k, 0) + v
    return out


def record_key(pseudonymiser: Any, aggregate: str, member: str) -> int:
    """A member's secret record key for the cell key method: keyed, so only Chorus knows it."""
    return int(
        pseudonymiser.pseudonym("disclosure", "record_key", f"{aggregate}:{member}")[:16], 16
    )


@dataclass
class Step:
    """What one batch of events does to an aggregate: new states, new contributions, rejects."""

    writes: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    changed: dict[str, Contributions] = field(default_factory=dict)
    rejected: list[tuple[int, Exception]] = field(default_factory=list)


def step(
    spec: AggregateSpec,
    get_state: Callable[[str], Mapping[str, Any] | None],
    items: Iterable[tuple[int, str, Mapping[str, Any], int]],
) -> Step:
    """Apply a batch of decoded events ``(index, name, record, partition)`` to the subjects.

    ``writes`` are the new states of the subjects whose state changed, with the
    partition their changelog entry belongs to; ``changed`` their contributions
    computed from the new state (a subject's events in one batch make one entry).
    A replayed event leaves its subject's state as it was, so it is in neither.
    """
    out = Step()
    before: dict[str, Mapping[str, Any] | None] = {}
    after: dict[str, dict[str, Any]] = {}
    partitions: dict[str, int] = {}
    for index, name, record, partition in items:
        try:
            subject = subject_of(spec, record)
            if subject in after:
                after[subject] = apply(spec, after[subject], name, record, in_place=True)
            else:
                before[subject] = get_state(subject)
                after[subject] = apply(spec, before[subject], name, record)
            partitions[subject] = partition
        except (KeyError, TypeError, ValueError, AttributeError, ContractError) as err:
            out.rejected.append((index, err))
    for subject, new in after.items():
        if new == before[subject]:
            continue  # a replay of what was already counted
        out.writes[subject] = (partitions[subject], new)
        out.changed[subject] = contributions(spec, subject, new)
    return out
