"""Statistical disclosure control (SDC) for published aggregate cells (pure functions).

Thresholds come from policy data (policies/data/disclosure.yaml) through OPA
(policies/disclosure/), never from code. The rules, in the order they apply:

1. Primary suppression: a count from 1 to ``suppress_at_or_below``, or a count
   made up by that few children (members), is suppressed and shown as
   suppressed, never as zero. A true zero stays zero.
2. Secondary suppression: in every additive relation a published table holds
   (a total and its parts along a margin, a distribution and its total, a rate's
   denominator and its numerator and complement) no suppressed value may be
   the only unknown, or it could be worked out by subtraction; another value of
   the relation is suppressed too (:func:`secondary_suppression`).
3. Perturbation and rounding: a published count is ``round(n + p)`` to the
   nearest ``round_to`` where ``p`` comes from a fixed perturbation table looked
   up with the cell key (the ABS cell key method: every record has a secret
   random key; a cell's key is the sum of its records' keys modulo 1, so the
   same records always give the same perturbation, and one more or one fewer
   record gives an unrelated one). Aggregates whose policy method is
   ``rounding`` are rounded without perturbation.
4. Rates and means need a denominator of at least ``min_denominator``; rates
   come from perturbed counts, means from a perturbed total; neither is shown
   when one of its counts is suppressed. Minimum and maximum are never published.

The cell key is an integer in ``[0, 2**64)`` (the sum of record keys modulo
2**64), so it is exact and independent of order.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KEY_SPACE = 1 << 64
METHODS = ("cell_key", "rounding")
UNIFORM_TABLE = ((-2, 0.2), (-1, 0.2), (0, 0.2), (1, 0.2), (2, 0.2))
MEAN_SALT = 0x9E3779B97F4A7C15  # decorrelates a mean's noise from its count's perturbation

# Suppression reasons, as published (the AggregateCell SuppressionReason enum).
SMALL_COUNT = "SMALL_COUNT"
SECONDARY = "SECONDARY"
SMALL_DENOMINATOR = "SMALL_DENOMINATOR"
FOLLOWS_SUPPRESSED = "FOLLOWS_SUPPRESSED"
NOT_PUBLISHABLE = "NOT_PUBLISHABLE"


class DisclosureError(Exception):
    """The disclosure rules from policy are missing or unusable: nothing may be published."""


@dataclass(frozen=True)
class Rules:
    """The disclosure rules of one publication, read from policy data."""

    suppress_at_or_below: int = 7
    round_to: int = 5
    min_denominator: int = 20
    rate_round_to: float = 1.0
    mean_decimals: int = 1
    mean_perturbation: float = 1.0
    perturbation: tuple[tuple[int, float], ...] = UNIFORM_TABLE
    default_method: str = "cell_key"
    methods: Mapping[str, str] = field(default_factory=dict)
    statements_min_cell: int = 20
    statements_max_per_cell: int = 3
    forbidden_measures: frozenset[str] = frozenset({"min", "max"})
    revision: str | None = None

    @classmethod
    def from_policy(cls, doc: Mapping[str, Any], revision: str | None = None) -> Rules:
        """Rules from the policy's answer (data.chorus.disclosure.rules), every problem at once."""
        problems = list(doc.get("problems") or [])
        try:
            pert = doc.get("perturbation") or {}
            rules = cls(
                suppress_at_or_below=int(doc["suppress_at_or_below"]),
                round_to=int(doc["round_to"]),
                min_denominator=int(doc.get("min_denominator", cls.min_denominator)),
                rate_round_to=float(doc.get("rate_round_to", cls.rate_round_to)),
                mean_decimals=int(doc.get("mean_decimals", cls.mean_decimals)),
                mean_perturbation=float(pert.get("mean_fraction", cls.mean_perturbation)),
                perturbation=tuple(
                    (int(row["value"]), float(row["probability"]))
                    for row in pert.get("count_table") or []
                )
                or cls.perturbation,
                default_method=str(pert.get("default_method", "cell_key")),
                methods=dict(pert.get("methods") or {}),
                statements_min_cell=int(
                    (doc.get("statements") or {}).get("min_cell", cls.statements_min_cell)
                ),
                statements_max_per_cell=int(
                    (doc.get("statements") or {}).get("max_per_cell", cls.statements_max_per_cell)
                ),
                forbidden_measures=frozenset(doc.get("forbidden_measures") or ("min", "max")),
                revision=revision,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DisclosureError(f"disclosure rules unusable: {type(exc).__name__}") from None
        problems.extend(rules.problems())
        if problems:
            raise DisclosureError("disclosure rules unusable: " + "; ".join(sorted(set(problems))))
        return rules

    def problems(self) -> list[str]:
        out = []
        if self.suppress_at_or_below < 0:
            out.append("suppress_at_or_below must be 0 or more")
        if self.round_to < 1:
            out.append("round_to must be 1 or more")
        if self.min_denominator <= self.suppress_at_or_below:
            out.append("min_denominator must be above suppress_at_or_below")
        total = sum(p for _, p in self.perturbation)
        if not math.isclose(total, 1.0, abs_tol=1e-9) or any(p < 0 for _, p in self.perturbation):
            out.append("perturbation probabilities must be 0 or more and add up to 1")
        if not math.isclose(sum(v * p for v, p in self.perturbation), 0.0, abs_tol=1e-9):
            out.append("the perturbation table must have mean 0 (no bias)")
        if max((abs(v) for v, _ in self.perturbation), default=0) >= self.suppress_at_or_below:
            out.append("perturbations must be smaller than suppress_at_or_below")
        for name, method in {"default": self.default_method, **self.methods}.items():
            if method not in METHODS:
                out.append(f"perturbation method for {name} must be one of {', '.join(METHODS)}")
        return out

    def method_for(self, aggregate: str) -> str:
        return self.methods.get(aggregate, self.default_method)

    def text(self, method: str) -> list[str]:
        """The rules in plain words, carried by every publication."""
        t = self.suppress_at_or_below
        lines = [
            f"counts from 1 to {t} suppressed",
            f"counts made up by 1 to {t} children suppressed",
            "suppressed values never shown as zero",
            "secondary suppression: no suppressed value can be worked out from totals, "
            "margins or complements of its table",
        ]
        if method == "cell_key":
            lines.append(
                "counts perturbed by the cell key method (a fixed perturbation table, "
                f"values {min(v for v, _ in self.perturbation)} to "
                f"{max(v for v, _ in self.perturbation)}), then rounded to the nearest "
                f"{self.round_to}"
            )
        else:
            lines.append(f"counts rounded to the nearest {self.round_to}")
        lines += [
            f"rates and means only with a denominator of at least {self.min_denominator}",
            f"rates from perturbed counts, to the nearest {self.rate_round_to:g} percentage points",
            f"means from a perturbed total, to {self.mean_decimals} decimal places",
            "minimum and maximum never published",
            f"statements only with consent to strategic use and to quotes, redacted, at most "
            f"{self.statements_max_per_cell} per cell, in cells of at least "
            f"{self.statements_min_cell} children",
        ]
        return lines

    def parameters(self) -> dict[str, float]:
        return {
            "suppress_at_or_below": float(self.suppress_at_or_below),
            "round_to": float(self.round_to),
            "min_denominator": float(self.min_denominator),
            "rate_round_to": float(self.rate_round_to),
            "mean_decimals": float(self.mean_decimals),
            "mean_perturbation": float(self.mean_perturbation),
            "statements_min_cell": float(self.statements_min_cell),
            "statements_max_per_cell": float(self.statements_max_per_cell),
        }


# --- the first rules (kept for callers that pass a plain dict) ---------------------------


def rules_text(rules: Mapping[str, Any]) -> list[str]:
    return [
        f"counts from 1 to {rules['suppress_at_or_below']} suppressed",
        f"counts rounded to the nearest {rules['round_to']}",
    ]


def round_half_up(n: float, base: int) -> int:
    return int(math.floor((n + base / 2) / base)) * base if base > 1 else int(round(n))


def publish_count(name: str, n: int, rules: Mapping[str, Any]) -> dict[str, Any]:
    """The published form of a lone count (suppression and rounding only)."""
    threshold = int(rules["suppress_at_or_below"])
    if 0 < n <= threshold:
        return {
            "name": name,
            "value": None,
            "status": "SUPPRESSED",
            "note": f"fewer than {threshold + 1}: suppressed",
        }
    base = int(rules["round_to"])
    return {
        "name": name,
        "value": float(round_half_up(n, base)),
        "status": "PUBLISHED",
        "note": f"rounded to the nearest {base}" if base > 1 else None,
    }


# --- cell keys and perturbation -----------------------------------------------------------


def cell_key(record_keys: Iterable[int]) -> int:
    """The cell key: the sum of the cell's record keys modulo 2**64 (order does not matter)."""
    return sum(record_keys) % KEY_SPACE


def key_fraction(key: int) -> float:
    return (key % KEY_SPACE) / KEY_SPACE


def perturbation(key: int, rules: Rules) -> int:
    """The perturbation the fixed table gives a cell key: the same key, the same value."""
    u = key_fraction(key)
    acc = 0.0
    for value, probability in rules.perturbation:
        acc += probability
        if u < acc:
            return value
    return rules.perturbation[-1][0]


def primary_suppressed(n: float, members: int, rules: Rules) -> bool:
    """A count from 1 to the threshold, or one that that few children make up."""
    t = rules.suppress_at_or_below
    return n > 0 and (n <= t or 0 < members <= t)


def perturbed_count(n: float, key: int, rules: Rules, method: str) -> float:
    """The count with its cell key perturbation (unrounded; rates are made from these)."""
    if n <= 0 or method != "cell_key":
        return float(n)
    return float(max(n + perturbation(key, rules), 1))


def published_count(n: float, key: int, rules: Rules, method: str) -> float:
    """A count that passed suppression, as published: perturbed (cell key method) and rounded."""
    if n <= 0:
        return 0.0
    shown = round_half_up(perturbed_count(n, key, rules, method), rules.round_to)
    return float(max(shown, rules.round_to))  # never zero for a non-zero count


def published_rate(numerator: float, denominator: float, rules: Rules) -> float:
    """A percentage from (perturbed) counts, rounded to the rule's step and kept in 0..100."""
    if denominator <= 0:
        return 0.0
    step = rules.rate_round_to
    pct = 100.0 * numerator / denominator
    shown = math.floor(pct / step + 0.5) * step
    return float(min(max(shown, 0.0), 100.0))


def published_mean(
    total: float, n: float, key: int, low: float, high: float, rules: Rules, method: str
) -> float:
    """A mean from a perturbed total: noise of up to ``mean_perturbation`` x the scale's width."""
    noise = 0.0
    if method == "cell_key":
        u = key_fraction(key ^ MEAN_SALT)
        noise = rules.mean_perturbation * (high - low) * (2.0 * u - 1.0)
    mean = (total + noise) / n
    return float(round(min(max(mean, low), high), rules.mean_decimals))


# --- secondary suppression ----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """An additive relation a table publishes: ``total = sum(parts)``."""

    total: Hashable
    parts: tuple[Hashable, ...]


def secondary_suppression(
    values: Mapping[Hashable, float],
    suppressed: set[Hashable],
    lines: Sequence[Line],
    hidden: Mapping[Hashable, Sequence[Hashable]] | None = None,
) -> set[Hashable]:
    """Suppress more values until no relation has exactly one suppressed (non-zero) value.

    ``values`` are the true counts of every value the relations name; ``suppressed``
    holds the primary suppressions and is extended in place. ``hidden`` values are
    never published but follow from others (a complement: denominator minus
    numerator); they map to the published values they follow from. Choosing a
    hidden value suppresses its smallest published source instead. Among the
    candidates a part is preferred to the total, then the smallest value, then
    the first in order, so the choice is deterministic. Returns the secondary
    suppressions.
    """
    hidden = hidden or {}
    chosen: set[Hashable] = set()
    ordered = sorted(lines, key=lambda line: repr(line.total))
    refs_of = [[line.total, *(p for p in line.parts if p in values)] for line in ordered]
    lines_of: dict[Hashable, list[int]] = {}
    for i, refs in enumerate(refs_of):
        for r in refs:
            lines_of.setdefault(r, []).append(i)

    def suppress(ref: Hashable) -> list[Hashable]:
        suppressed.add(ref)
        chosen.add(ref)
        return [ref]

    pending = deque(range(len(ordered)))  # every line once; then those a suppression touched
    queued = set(pending)
    while pending:
        i = pending.popleft()
        queued.discard(i)
        refs = refs_of[i]
        if sum(1 for r in refs if r in suppressed and values.get(r, 0) > 0) != 1:
            continue
        candidates = [r for r in refs if r not in suppressed and values.get(r, 0) > 0]
        if not candidates:
            continue
        total = ordered[i].total
        pick = min(candidates, key=lambda r: (r == total, values[r], repr(r)))
        newly = suppress(pick)
        sources = [s for s in hidden.get(pick, ()) if s not in suppressed and values.get(s, 0) > 0]
        if sources:
            newly += suppress(min(sources, key=lambda s: (values[s], repr(s))))
        for ref in newly:
            for j in lines_of.get(ref, ()):
                if j not in queued:
                    queued.add(j)
                    pending.append(j)
    return chosen
