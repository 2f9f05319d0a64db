"""The schema of an event as a purpose receives it, derived from its source schema.

The gatekeeper may drop a field, pseudonymise it, or generalise it (a date to a
month or a year, a postcode to its district), so the shared form of an event
is its source form with:

- the envelope replaced by ``chorus.platform.ShareEnvelope`` (pseudonyms, no raw
  identifiers unless the policy releases them);
- every other field made optional (null when withheld);
- date and timestamp fields carried as ISO strings, since a generalised date
  (``2025-03`` or ``2025``) is no longer a day.

Deriving it keeps one source of truth per event type.
"""

from __future__ import annotations

import copy
from typing import Any

DATE_LOGICAL_TYPES = {"date", "timestamp-millis", "timestamp-micros"}


def share_event_type(event_type: str) -> str:
    return f"share.{event_type}"


def _is_date(t: Any) -> bool:
    return isinstance(t, dict) and t.get("logicalType") in DATE_LOGICAL_TYPES


def _optional(t: Any) -> list[Any]:
    branches = t if isinstance(t, list) else [t]
    out: list[Any] = ["null"]
    for b in branches:
        if b == "null":
            continue
        out.append("string" if _is_date(b) else b)
    return out


def _doc(field: dict[str, Any]) -> str:
    doc = field.get("doc", "")
    if any(
        _is_date(b) for b in (field["type"] if isinstance(field["type"], list) else [field["type"]])
    ):
        doc += (
            " Shared as an ISO date, or generalised to YYYY-MM or YYYY where the purpose requires."
        )
    return (doc + " Null when the purpose may not receive it.").strip()


def derive_share_schema(source: dict[str, Any]) -> dict[str, Any]:
    """The shared form of a source event schema (not yet expanded)."""
    namespace = source.get("namespace", "chorus")
    domain = namespace.rsplit(".", 1)[-1]
    fields: list[dict[str, Any]] = [
        {
            "name": "share",
            "type": "chorus.platform.ShareEnvelope",
            "doc": "Envelope of the shared event.",
        }
    ]
    for f in source["fields"]:
        if f["name"] == "envelope":
            continue
        fields.append(
            {
                "name": f["name"],
                "type": _optional(copy.deepcopy(f["type"])),
                "default": None,
                "doc": _doc(f),
            }
        )
    return {
        "type": "record",
        "name": f"{source['name']}Shared",
        "namespace": f"chorus.share.{domain}",
        "event_type": share_event_type(source["event_type"]),
        "schema_version": source.get("schema_version", 1),
        "doc": f"As shared with a purpose: {source.get('doc', '')}",
        "fields": fields,
    }
