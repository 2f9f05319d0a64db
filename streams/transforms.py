"""Field transforms the sharing policy asks for, applied to one event (pure functions).

A field the decision does not name is withheld: nothing is shared by default.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ContractError
from streams.pseudonyms import Pseudonymiser

REDACTED = "[redacted]"
AGE_BANDS = ((0, 0, "under 1"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 200, "16+"))


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _generalise_date(value: Any, to: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dt.date):
        raise ContractError("transform.not_a_date", f"cannot generalise a non-date to {to}")
    return f"{value.year:04d}-{value.month:02d}" if to == "month" else f"{value.year:04d}"


def postcode_district(postcode: str | None) -> str | None:
    """The outward code of a UK postcode ('OL1 3AB' -> 'OL1')."""
    if not postcode:
        return None
    compact = postcode.replace(" ", "").upper()
    return compact[:-3] if len(compact) > 3 else None


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


@dataclass
class Released:
    """What one decision released from one event."""

    fields: dict[str, Any]
    transformed: list[tuple[str, str]] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


def apply_transforms(
    record: dict[str, Any],
    transforms: dict[str, str],
    pseudonymiser: Pseudonymiser,
    purpose: str,
) -> Released:
    """Apply the decision's transforms to the payload fields (everything but the envelope)."""
    out = Released(fields={})
    for name, value in record.items():
        if name == "envelope":
            continue
        action = transforms.get(name)
        if action is None or action == "drop":
            out.fields[name] = None
            out.withheld.append(name)
            continue
        if action == "keep":
            out.fields[name] = _iso(value)
        elif action in ("month", "year"):
            out.fields[name] = _generalise_date(value, action)
        elif action == "pseudonymise":
            out.fields[name] = (
                None if value is None else pseudonymiser.pseudonym(purpose, name, str(value))
            )
        elif action == "district":
            out.fields[name] = postcode_district(value)
        elif action == "age_band":
            out.fields[name] = age_band(value)
        elif action == "redact":
            out.fields[name] = None if value is None else REDACTED
        else:
            raise ContractError(
                "policy.unknown_transform",
                f"the policy asks for an unknown transform '{action}'; "
                "see policies/data/purposes.yaml",
                field=name,
            )
        out.transformed.append((name, action))
    return out
