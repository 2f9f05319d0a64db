"""Helpers the aggregates share: months, periods, ages, a child's area, own statements.

Dates reach strategic reporting generalised to the month (``YYYY-MM``), so all
arithmetic here is on months. Nothing here reads a clock: a cell depends only
on the events, so the stream and a recomputation agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from streams.transforms import AGE_BANDS

UNKNOWN = "UNKNOWN"
PERSON = "person_registered"


def month(value: Any) -> str | None:
    """``2025-03``, ``2025-03-14`` or a datetime -> ``2025-03``; None when there is none."""
    if value is None:
        return None
    if hasattr(value, "year"):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value)
    return text[:7] if len(text) >= 7 and text[4] == "-" else None


def month_index(m: str | None) -> int | None:
    if not m:
        return None
    return int(m[:4]) * 12 + int(m[5:7]) - 1


def near(a: str | None, b: str | None, months: int = 1) -> bool:
    """Two months at most ``months`` apart (a view recorded around the meeting it was for)."""
    i, j = month_index(a), month_index(b)
    return i is not None and j is not None and abs(i - j) <= months


def half_year(m: str | None) -> str | None:
    """The six-monthly review period of a month: ``2025-H1`` (January-June) or ``2025-H2``."""
    if not m:
        return None
    return f"{m[:4]}-H{1 if int(m[5:7]) <= 6 else 2}"


def year(m: str | None) -> str | None:
    return m[:4] if m else None


def age_years(dob: str | None, at: str | None) -> int | None:
    """Whole years between two months (the birthday month counts as reached)."""
    a, b = month_index(dob), month_index(at)
    if a is None or b is None or b < a:
        return None
    return (b - a) // 12


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return UNKNOWN


def person_fact(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the aggregates keep of a person_registered event: month of birth and district."""
    return {
        "dob": month(record.get("dob") or record.get("expected_dob")),
        "area": record.get("postcode"),
    }


def person(facts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The child's month of birth and district, from the latest person_registered fact."""
    found = [f for f in facts.values() if f["e"] == PERSON]
    if not found:
        return {"dob": None, "area": UNKNOWN}
    latest = max(found, key=lambda f: (f.get("t", 0), f.get("dob") or ""))
    return {"dob": latest.get("dob"), "area": latest.get("area") or UNKNOWN}


def of(facts: Mapping[str, Mapping[str, Any]], *names: str) -> list[tuple[str, dict[str, Any]]]:
    """(record key, fact) for the facts of these event names, in a stable order."""
    return sorted(
        ((k.split(":", 1)[0], dict(f)) for k, f in facts.items() if f["e"] in names),
        key=lambda kf: (kf[1].get("t", 0), kf[0]),
    )


def quotable(record: Mapping[str, Any]) -> str | None:
    """The statement's words as released for strategic reporting, when they may be quoted.

    Only with consent to strategic use and to verbatim quotes, and only the text
    the sharing policy released (it redacts, or withholds when there is no
    consent to quotes); None otherwise.
    """
    consent = record.get("consent_for_reports") or {}
    text = record.get("text")
    if not (consent.get("strategic_reporting") and consent.get("verbatim_quotes")):
        return None
    return text or None


def statement(key: str, text: str, role: str | None) -> dict[str, Any]:
    """A statement as contributions carry it; ``k`` orders statements stably."""
    return {"k": hashlib.sha256(key.encode()).hexdigest()[:16], "t": text, "r": role}


def flags(values: Iterable[tuple[str, bool]]) -> dict[str, int]:
    return {name: 1 for name, on in values if on}
