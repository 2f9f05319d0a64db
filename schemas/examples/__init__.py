"""Synthetic example events, one module per domain (no real person's data).

Identifiers come from the synthetic ranges (``schemas.identifiers``): NHS numbers
from 999 000 0000-999 999 9999, UPNs with a fictitious LA number, LA 999.
``envelope`` builds a valid ``chorus.common.Envelope`` for any event type with
the connectors' own helper, so examples look exactly like published events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.common.events import envelope as _connector_envelope
from connectors.common.events import utc

__all__ = ["DEFAULT_WHEN", "envelope"]

#: The business time examples use unless they say otherwise.
DEFAULT_WHEN = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def envelope(
    event_type: str,
    *,
    key: str,
    la_child_id: str | None = "C0000001",
    nhs_number: str | None = "9990000018",
    upn: str | None = None,
    when: dt.datetime | dt.date = DEFAULT_WHEN,
    recorded: dt.datetime | None = None,
    entity: str | None = None,
    nhs_number_verified: bool | None = None,
    mis_child_id: str | None = None,
    family_id: str | None = None,
    source_system: str = "LIQUIDLOGIC_LCS",
    source_instance: str = "lcs-example",
    la_code: str = "999",
    operation: str = "UPSERT",
    correlation_id: str | None = None,
    schema_version: int = 1,
) -> dict[str, Any]:
    """A ``chorus.common.Envelope`` dict for a synthetic example of ``event_type``.

    ``when`` is the business time (a date means midnight UTC); ``recorded``, the
    source's last-updated time, defaults to it and is also the record version.
    ``entity`` (the source table) defaults to the event part of the type.
    """
    recorded_time = utc(recorded if recorded is not None else when)
    return _connector_envelope(
        event_type=event_type,
        schema_version=schema_version,
        source_system=source_system,
        source_instance=source_instance,
        la_code=la_code,
        entity=entity or event_type.rsplit(".", 1)[-1],
        key=key,
        version=recorded_time.isoformat(),
        event_time=when,
        recorded_time=recorded_time,
        subject={
            "la_child_id": la_child_id,
            "mis_child_id": mis_child_id,
            "nhs_number": nhs_number,
            "nhs_number_verified": nhs_number_verified,
            "upn": upn,
            "family_id": family_id,
        },
        operation=operation,
        correlation_id=correlation_id,
    )
