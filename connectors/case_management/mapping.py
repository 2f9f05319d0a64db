"""The referral mapping under its original name (kept for callers written before
``connectors.case_management.mappings`` had one module per area)."""

from __future__ import annotations

from typing import Any

from connectors.case_management import ssd
from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.front_door import REFERRAL, referral_events

EVENT_TYPE = REFERRAL
SCHEMA_VERSION = 1
ENTITY = ssd.cin_episodes.name


def referral_event(
    row: dict[str, Any], *, source_instance: str, source_system: str, la_code: str
) -> dict[str, Any]:
    """A case_management.referral record from an ssd_cin_episodes row (with nhs_number, upn)."""
    [(_, record)] = referral_events(row, Source(source_instance, source_system, la_code))
    return record
