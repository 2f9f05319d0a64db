"""Referrals per month by referral source: the first live aggregate.

A referral counts once, in the cell of the month it was received and the CIN
referral source that made it. Each referral is a member of its cell (not the
child), and the aggregate is published by rounding alone (policy data), so its
cells can be checked against the CIN census count by count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Table

TABLE = Table(
    name="referrals_by_source",
    dims=("month", "referral_source"),
    measures=(Count("referrals", "referrals", unit="referrals"),),
    key_prefix=False,
)


def referral_fact(name: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    month = record.get("referral_date")  # shared generalised to YYYY-MM
    source = record.get("referral_source")
    if not month or not source:
        return None
    return {"m": month[:7], "s": source.removeprefix("RS_")}


def referral_cells(facts: Facts) -> Iterable[Contribution]:
    for key, fact in facts.items():
        yield TABLE.name, (fact["m"], fact["s"]), key.split(":", 1)[0], {"referrals": 1}


SPEC = AggregateSpec(
    name="referrals_by_source",
    events=("referral",),
    tables=(TABLE,),
    fact=referral_fact,
    cells=referral_cells,
    doc="Referrals to children's social care per month, by CIN referral source.",
)
