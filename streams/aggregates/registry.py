"""Every live aggregate, in one explicit list (the app, `chorus agg` and the SQL sink read it)."""

from __future__ import annotations

from streams.aggregates.care_leavers import SPEC as CARE_LEAVERS
from streams.aggregates.early_help_voice import SPEC as EARLY_HELP_VOICE
from streams.aggregates.early_years_communication import SPEC as EARLY_YEARS_COMMUNICATION
from streams.aggregates.engine import AggregateSpec
from streams.aggregates.information_map import SPEC as INFORMATION_MAP
from streams.aggregates.participation import SPEC as PARTICIPATION
from streams.aggregates.referrals_by_source import SPEC as REFERRALS_BY_SOURCE

AGGREGATES: tuple[AggregateSpec, ...] = (
    REFERRALS_BY_SOURCE,
    CARE_LEAVERS,
    EARLY_HELP_VOICE,
    EARLY_YEARS_COMMUNICATION,
    PARTICIPATION,
    INFORMATION_MAP,
)
BY_NAME = {spec.name: spec for spec in AGGREGATES}


def aggregate(name: str) -> AggregateSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"no aggregate named '{name}'; choose one of {', '.join(sorted(BY_NAME))}"
        ) from None
