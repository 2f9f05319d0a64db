"""Referrals per month by referral source: the first live aggregate.

A referral counts once, in the cell of the month it was received and the CIN
referral source that made it.
"""

from __future__ import annotations

from typing import Any

from streams.aggregates.machinery import AggregateSpec


def referral_cells(record: dict[str, Any]) -> list[tuple[str, ...]]:
    month = record.get("referral_date")  # shared generalised to YYYY-MM
    source = record.get("referral_source")
    if not month or not source:
        return []
    return [(month[:7], source.removeprefix("RS_"))]


SPEC = AggregateSpec(
    name="referrals_by_source",
    events=("referral",),
    dimensions=("month", "referral_source"),
    measure="referrals",
    cells_of=referral_cells,
)
