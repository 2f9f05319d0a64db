"""Shared pieces of the synthetic case-management writer: fast draws, dates, and the
per-run context the area generators (social care, looked after, early help,
voice) add their rows through.

Every draw comes from a ``random.Random`` the caller seeded, in a fixed order, and
no value depends on the wall clock, so the same options give the same rows.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar

_T = TypeVar("_T")

#: Upper bound on people (children and young people): the synthetic NHS range holds a
#: little over 900,000 numbers.
MAX_CHILDREN = 900_000


class SynthError(Exception):
    """The synthetic database cannot be written as asked."""


#: Share of rows in the tables the social-care generators write that are realistically bad
#: (an impossible date, an unknown code); plus a few persons with a mistyped NHS number.
BAD_RATE = 0.005
_MONTHLY_SWEEP_RATE = 0.10  # rows last touched by the 02:00 sweep on the 1st of a month

# ``random.Random.randrange`` and ``choice`` cost several times more than ``random()``;
# at a million rows that is most of the run. ``int(random() * n)`` is deterministic
# (IEEE doubles) and its bias for the small ``n`` used here is below 1e-9.


def below(rng: random.Random, n: int) -> int:
    """A draw from ``range(n)``."""
    return int(rng.random() * n)


def between(rng: random.Random, lo: int, hi: int) -> int:
    """A draw from ``lo..hi`` inclusive."""
    return lo + int(rng.random() * (hi - lo + 1))


def pick(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


def random_day(rng: random.Random, lo: date, hi: date) -> date:
    return date.fromordinal(between(rng, lo.toordinal(), hi.toordinal()))


def office_slot(rng: random.Random, day: date) -> datetime:
    """A 15-minute slot between 09:00 and 17:45: coarse on purpose, so rows share seconds."""
    slot = below(rng, 36)
    return datetime.combine(day, time(9 + slot // 4, (slot % 4) * 15))


def first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def clamp(value: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(value)))


def flags(keys: tuple[str, ...], yes: set[str], *, unrecorded: bool) -> str:
    """An SSD outcome JSON with every key present: 'Y', 'N', or null when unrecorded."""
    return _flags_json(keys, frozenset(yes), unrecorded)


@lru_cache(maxsize=4096)
def _flags_json(keys: tuple[str, ...], yes: frozenset[str], unrecorded: bool) -> str:
    return json.dumps({k: "Y" if k in yes else (None if unrecorded else "N") for k in keys})


def yn(value: bool) -> str:
    return "Y" if value else "N"


@dataclass
class Child:
    """What the area generators need to know about one child (or young person)."""

    person_id: str
    dob: date
    death_date: date | None = None


@dataclass
class Context:
    """One run's shared state: the options' window, the rows of the current batch, the ids
    handed out so far, and the bad records written (table, key, rule)."""

    rng: random.Random
    start: date
    end: date
    batch: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bad: list[tuple[str, str, str]] = field(default_factory=list)
    _next: dict[str, int] = field(default_factory=dict)

    @property
    def ceiling(self) -> datetime:
        return datetime.combine(self.end, time(23, 59, 59))

    def next_id(self, prefix: str, width: int = 7) -> str:
        n = self._next.get(prefix, 0) + 1
        self._next[prefix] = n
        return f"{prefix}{n:0{width}d}"

    def next_int(self, name: str) -> int:
        n = self._next.get(name, 0) + 1
        self._next[name] = n
        return n

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.batch.setdefault(table, []).append(row)
        return row

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def corrupt(self) -> bool:
        """Whether the row being written is one of the realistically bad ones."""
        return self.rng.random() < BAD_RATE

    def record_bad(self, table: str, key: Any, rule: str) -> None:
        self.bad.append((table, str(key), rule))

    def day(self, lo: date, hi: date) -> date:
        return random_day(self.rng, lo, max(lo, hi))

    def at(self, day: date) -> datetime:
        """An office-hours time on ``day``."""
        return office_slot(self.rng, day)

    def updated(self, since: date | datetime, max_lag_days: int = 30) -> datetime:
        """A ``last_updated`` at or after ``since`` (and after ``start``), never after ``end``."""
        floor = since if isinstance(since, datetime) else datetime.combine(since, time(0))
        lo = max(floor.date(), self.start)
        hi = min(self.end, lo + timedelta(max_lag_days))
        if self.rng.random() < _MONTHLY_SWEEP_RATE:
            sweep = datetime.combine(first_of_next_month(lo), time(2, 0))
            if floor <= sweep <= self.ceiling:
                return sweep
        stamp = office_slot(self.rng, random_day(self.rng, lo, max(lo, hi)))
        return min(max(stamp, floor), self.ceiling)
