"""Statistical disclosure control for published counts (pure functions).

Thresholds come from policy data (policies/data/disclosure.yaml) through OPA:
counts from 1 to `suppress_at_or_below` are suppressed and shown as suppressed,
never as zero; other counts are rounded to the nearest `round_to` (halves up).
A true zero stays zero.
"""

from __future__ import annotations

from typing import Any


def rules_text(rules: dict[str, Any]) -> list[str]:
    return [
        f"counts from 1 to {rules['suppress_at_or_below']} suppressed",
        f"counts rounded to the nearest {rules['round_to']}",
    ]


def round_half_up(n: int, base: int) -> int:
    return ((n + base // 2) // base) * base if base > 1 else n


def publish_count(name: str, n: int, rules: dict[str, Any]) -> dict[str, Any]:
    """The published form of a count, as an AggregateCell measure."""
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
