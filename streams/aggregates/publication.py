"""What an aggregate publishes, and how its cells pass disclosure control (pure).

An aggregate publishes one or more *tables*. A table has dimensions and
measures: counts (and bands of a distribution, which add up to a count of the
same cell), means and rates over a count of the same cell. A dimension listed
in ``margins`` has an ``ALL`` value, the total over its other values: each
contribution to a cell also goes to the cell's totals, so a total is the union
of its parts' members and the sum of their values, an additive relation that
secondary suppression protects.

A cell's :class:`Summary` is what its members add up to: for each component,
its sum, the number of members with a non-zero value and the sum of their
record keys (the cell key of the members a measure counts).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, cached_property
from typing import Any

from streams import disclosure as sdc

ALL = "ALL"


@dataclass(frozen=True)
class Count:
    """A count: the sum of a component over the cell's members."""

    name: str
    component: str
    unit: str = ""
    band_of: str | None = None  # the Count this band's group adds up to
    within: str | None = None  # a Count of the same cell this one is part of (a subset)

    @property
    def kind(self) -> str:
        return "BAND" if self.band_of else "COUNT"


@dataclass(frozen=True)
class Mean:
    """A mean of a component's total over a Count of the same cell, on the scale low..high."""

    name: str
    total: str
    count: str
    low: float
    high: float
    unit: str = ""
    kind: str = "MEAN"


@dataclass(frozen=True)
class Rate:
    """A percentage: one Count of the cell over another (numerator within denominator)."""

    name: str
    numerator: str
    denominator: str
    kind: str = "RATE"

    @property
    def complement(self) -> str:
        return f"{self.denominator}-minus-{self.numerator}"  # as Table.subsets names it


Measure = Count | Mean | Rate


@dataclass(frozen=True)
class Table:
    name: str
    dims: tuple[str, ...]
    measures: tuple[Measure, ...]
    margins: tuple[str, ...] = ()
    key_prefix: bool = True
    statements: bool = False  # cells may carry statements (of members, when large enough)
    headline: str = ""  # the Count statements and annotations follow; the first Count if empty
    annotate: Callable[[Summary], dict[str, str]] | None = None
    # other additive relations among the cell's counts: (total, (parts, ...))
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def key(self, dims: tuple[str, ...]) -> str:
        return "|".join((self.name, *dims) if self.key_prefix else dims)

    def cell_keys(self, dims: tuple[str, ...]) -> tuple[str, ...]:
        """The keys of the cell and of every margin total it counts in (remembered: the
        dimensions' values are few, and the stream asks for them for every contribution)."""
        keys = self._cell_keys.get(dims)
        if keys is None:
            keys = tuple(self.key(d) for d in expand_margins(self, dims))
            self._cell_keys[dims] = keys
        return keys

    @cached_property
    def _cell_keys(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}

    def counts(self) -> list[Count]:
        return [m for m in self.measures if isinstance(m, Count)]

    def subsets(self) -> dict[str, tuple[str, str]]:
        """Hidden complements: name -> (the whole, the part); a rate's part is its numerator."""
        out = {}
        for m in self.measures:
            pair = None
            if isinstance(m, Rate):
                pair = (m.denominator, m.numerator)
            elif isinstance(m, Count) and m.within:
                pair = (m.within, m.name)
            if pair:
                out[f"{pair[0]}-minus-{pair[1]}"] = pair
        return out

    def headline_count(self) -> Count:
        counts = self.counts()
        return next((c for c in counts if c.name == self.headline), counts[0])


@dataclass
class Summary:
    """What a cell's members add up to, kept as members come and go.

    Fractional values are added up exactly (as fractions; a mean of a young person's
    ratings is one), so a summary kept up to date through any order of members coming
    and going equals one made afresh from its members, and a restart publishes the same
    figures to the last digit.
    """

    sums: dict[str, Any] = field(default_factory=dict)  # int, or Fraction when fractional
    members: dict[str, int] = field(default_factory=dict)
    # the members' record keys added up, exactly: the cell key is this modulo 2**64 (the
    # disclosure module reduces it where it reads it; here it costs a division per value)
    keys: dict[str, int] = field(default_factory=dict)
    statements: list[dict[str, Any]] = field(default_factory=list)

    def add_member(self, contribution: Mapping[str, Any], record_key: int) -> None:
        sums, members, keys = self.sums, self.members, self.keys
        for comp, value in contribution.items():
            if comp == "_s":
                self.statements.extend(value)
                continue
            if not value:
                continue
            if type(value) is float:
                value = Fraction(value)
            if comp in sums:
                sums[comp] += value
                members[comp] += 1
                keys[comp] += record_key
            else:
                sums[comp] = value
                members[comp] = 1
                keys[comp] = record_key

    def remove_member(self, contribution: Mapping[str, Any], record_key: int) -> None:
        """Undo add_member (for values and statements the member added)."""
        sums, members, keys = self.sums, self.members, self.keys
        for comp, value in contribution.items():
            if comp == "_s":
                for statement in value:
                    self.statements.remove(statement)
                continue
            if not value:
                continue
            left = members[comp] - 1
            if left:
                sums[comp] -= Fraction(value) if type(value) is float else value
                members[comp] = left
                keys[comp] -= record_key
            else:  # as if never added: a fresh summary would not name the component
                del sums[comp], members[comp], keys[comp]

    def add_members(self, contribution: Mapping[str, Any], n: int, record_keys: int) -> None:
        """add_member() for ``n`` members alike in their values (a negative ``n`` removes
        them) whose record keys add up to ``record_keys``."""
        sums, members, keys = self.sums, self.members, self.keys
        for comp, value in contribution.items():
            if not value:
                continue
            if comp == "_s":
                raise ValueError("statements are added member by member")
            if type(value) is float:
                value = Fraction(value)
            left = members.get(comp, 0) + n
            if left:
                sums[comp] = sums.get(comp, 0) + value * n
                members[comp] = left
                keys[comp] = keys.get(comp, 0) + record_keys
            elif comp in members:  # as if never added: a fresh summary would not name it
                del sums[comp], members[comp], keys[comp]

    def value(self, comp: str) -> float:
        found = self.sums.get(comp, 0)
        return float(found) if type(found) is Fraction else found


def expand_margins(table: Table, dims: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The cell and every margin total it also counts in (ALL in one or more margins)."""
    if not table.margins:
        return [dims]
    return [
        tuple(ALL if i in chosen else v for i, v in enumerate(dims))
        for chosen in _margin_sets(table.dims, table.margins)
    ]


@cache
def _margin_sets(dims: tuple[str, ...], margins: tuple[str, ...]) -> list[frozenset[int]]:
    index = [dims.index(d) for d in margins]
    return [
        frozenset(chosen)
        for r in range(len(index) + 1)
        for chosen in itertools.combinations(index, r)
    ]


def margin_lines(table: Table, keys: Iterable[tuple[str, ...]]) -> list[tuple[tuple, list[tuple]]]:
    """(total cell, part cells) for each margin: the total is ALL in one margin dimension."""
    lines = []
    keys = list(keys)
    for d in table.margins:
        i = table.dims.index(d)
        parts: dict[tuple, list[tuple]] = defaultdict(list)
        for k in keys:
            if k[i] != ALL:
                parts[k[:i] + (ALL,) + k[i + 1 :]].append(k)
        for total, members in parts.items():
            lines.append((total, sorted(members)))
    return lines


def publish_table(
    table: Table, cells: Mapping[tuple[str, ...], Summary], rules: sdc.Rules, method: str
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each cell of the table (its margin totals among them) as published.

    ``cells`` holds every cell the members contributed to, margin totals included
    (a member counts once in a total, so a total is the union of its parts).
    """
    full = cells
    counts = table.counts()
    subsets = table.subsets()
    by_name = {c.name: c for c in counts}
    values: dict[tuple, float] = {}
    suppressed: set[tuple] = set()
    hidden: dict[tuple, list[tuple]] = {}
    lines: list[sdc.Line] = []
    for dims, s in full.items():
        for c in counts:
            ref = (dims, c.name)
            values[ref] = s.value(c.component)
            if sdc.primary_suppressed(values[ref], s.members.get(c.component, 0), rules):
                suppressed.add(ref)
        for name, (whole, part) in subsets.items():
            num, den = by_name[part], by_name[whole]
            ref = (dims, name)
            values[ref] = s.value(den.component) - s.value(num.component)
            members = s.members.get(den.component, 0) - s.members.get(num.component, 0)
            hidden[ref] = [(dims, den.name), (dims, num.name)]
            if sdc.primary_suppressed(values[ref], members, rules):
                suppressed.add(ref)
            lines.append(sdc.Line((dims, den.name), ((dims, num.name), ref)))
        for total, parts in table.sums:
            lines.append(sdc.Line((dims, total), tuple((dims, p) for p in parts)))
        groups: dict[str, list[tuple]] = defaultdict(list)
        for c in counts:
            if c.band_of:
                groups[c.band_of].append((dims, c.name))
        for total, bands in groups.items():
            lines.append(sdc.Line((dims, total), tuple(bands)))
    additive = [c.name for c in counts] + list(subsets)
    for total, parts in margin_lines(table, full):
        for name in additive:
            lines.append(sdc.Line((total, name), tuple((p, name) for p in parts)))
    primary = set(suppressed)
    sdc.secondary_suppression(values, suppressed, lines, hidden)
    return {
        dims: _publish_cell(table, dims, s, values, primary, suppressed, rules, method)
        for dims, s in full.items()
    }


def _publish_cell(
    table: Table,
    dims: tuple[str, ...],
    s: Summary,
    values: Mapping[tuple, float],
    primary: set[tuple],
    suppressed: set[tuple],
    rules: sdc.Rules,
    method: str,
) -> dict[str, Any]:
    by_name = {c.name: c for c in table.counts()}
    measures = []
    for m in table.measures:
        if m.kind.lower() in rules.forbidden_measures:
            measures.append(_suppressed(m, sdc.NOT_PUBLISHABLE, "never published"))
        elif isinstance(m, Count):
            measures.append(_count(m, dims, s, values, primary, suppressed, rules, method))
        elif isinstance(m, Mean):
            measures.append(_mean(m, dims, s, by_name, suppressed, rules, method))
        else:
            measures.append(_rate(m, dims, s, by_name, suppressed, rules, method))
    head = table.headline_count()
    shown = (dims, head.name) not in suppressed
    statements: list[dict[str, Any]] = []
    if table.statements and shown and s.members.get(head.component, 0) >= rules.statements_min_cell:
        chosen = sorted({st["k"]: st for st in s.statements}.values(), key=lambda st: st["k"])
        statements = [
            {"text": st["t"], "author_role": st.get("r")}
            for st in chosen[: rules.statements_max_per_cell]
        ]
    annotations = table.annotate(s) if table.annotate else {}
    return {
        "table": table.name,
        "cell_key": table.key(dims),
        "dimensions": dict(zip(table.dims, dims, strict=True)),
        "measures": measures,
        "statements": statements,
        "annotations": annotations,
    }


def _measure(m: Measure, value: float | None, note: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": m.name,
        "value": value,
        "status": "PUBLISHED",
        "note": note,
        "kind": m.kind,
        "suppression": None,
        "denominator": extra.get("denominator"),
        "unit": getattr(m, "unit", None) or extra.get("unit") or None,
    }


def _suppressed(m: Measure, reason: str, note: str, **extra: Any) -> dict[str, Any]:
    out = _measure(m, None, note, **extra)
    out.update(status="SUPPRESSED", suppression=reason)
    return out


def _count(m, dims, s, values, primary, suppressed, rules, method) -> dict[str, Any]:
    ref = (dims, m.name)
    extra = {"denominator": m.band_of}
    if ref in primary:
        return _suppressed(
            m, sdc.SMALL_COUNT, f"fewer than {rules.suppress_at_or_below + 1}", **extra
        )
    if ref in suppressed:
        return _suppressed(
            m, sdc.SECONDARY, "suppressed so another value cannot be derived", **extra
        )
    n = values[ref]
    shown = sdc.published_count(n, s.keys.get(m.component, 0), rules, method)
    note = None
    if n:
        note = (
            f"perturbed and rounded to the nearest {rules.round_to}"
            if method == "cell_key"
            else f"rounded to the nearest {rules.round_to}"
        )
    return _measure(m, shown, note, **extra)


def _mean(m: Mean, dims, s: Summary, by_name, suppressed, rules, method) -> dict[str, Any]:
    base = by_name[m.count]
    extra = {"denominator": m.count}
    n = s.value(base.component)
    if n < rules.min_denominator:
        return _suppressed(
            m, sdc.SMALL_DENOMINATOR, f"over fewer than {rules.min_denominator}", **extra
        )
    if (dims, base.name) in suppressed:
        return _suppressed(m, sdc.FOLLOWS_SUPPRESSED, f"{base.name} is suppressed", **extra)
    key = s.keys.get(base.component, 0)
    value = sdc.published_mean(s.value(m.total), n, key, m.low, m.high, rules, method)
    note = "from a perturbed total" if method == "cell_key" else None
    return _measure(m, value, note, **extra)


def _rate(m: Rate, dims, s: Summary, by_name, suppressed, rules, method) -> dict[str, Any]:
    num, den = by_name[m.numerator], by_name[m.denominator]
    extra = {"denominator": m.denominator, "unit": "percent"}
    d = s.value(den.component)
    if d < rules.min_denominator:
        return _suppressed(
            m, sdc.SMALL_DENOMINATOR, f"over fewer than {rules.min_denominator}", **extra
        )
    if {(dims, num.name), (dims, den.name), (dims, m.complement)} & suppressed:
        return _suppressed(m, sdc.FOLLOWS_SUPPRESSED, "one of its counts is suppressed", **extra)
    pn = sdc.perturbed_count(s.value(num.component), s.keys.get(num.component, 0), rules, method)
    pd = sdc.perturbed_count(d, s.keys.get(den.component, 0), rules, method)
    return _measure(m, sdc.published_rate(pn, pd, rules), None, **extra)
