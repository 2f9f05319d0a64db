"""Contract rules Avro cannot express for the consent domain (``consent.*`` events).

Every rule raises :class:`schemas.errors.ContractError` with a stable rule id
and the field's path; messages never quote the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from schemas.errors import ContractError
from schemas.validation.voice import check_code, dispatch

__all__ = ["MAX_CHILD_AGE", "RULES", "validate"]

#: Oldest age at which a care leaver's preferences are still held about them as a child's record.
MAX_CHILD_AGE = 25

# Purpose, recipient, category, role and legal reference codes: no spaces, so no free text.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}", re.ASCII)
_CODE_SHAPE = "a code of letters, digits and _ . : / - (at most 100, no spaces)"
# Reasons that do not name their legal basis themselves.
_NEEDS_LEGAL_REFERENCE = frozenset({"LEGAL_DUTY", "OTHER"})


def _sharing_preference_recorded(record: dict[str, Any]) -> None:
    if not 0 <= record["child_age_years"] <= MAX_CHILD_AGE:
        raise ContractError(
            "consent.child_age",
            f"child_age_years must be between 0 and {MAX_CHILD_AGE}",
            "child_age_years",
        )
    for part in ("purpose", "recipient", "data_category"):
        check_code(record["scope"][part], f"scope.{part}", "consent.scope_code", _CODE, _CODE_SHAPE)
    start, end = record["effective_from"], record["effective_to"]
    if end is not None and end <= start:
        raise ContractError(
            "consent.effective_period", "effective_to must be after effective_from", "effective_to"
        )
    withdrawn, withdrawn_at = record["withdrawn"], record["withdrawn_at"]
    if withdrawn and withdrawn_at is None:
        raise ContractError(
            "consent.withdrawn_at",
            "withdrawn_at is required when withdrawn is true",
            "withdrawn_at",
        )
    if not withdrawn and withdrawn_at is not None:
        raise ContractError(
            "consent.withdrawn_at",
            "withdrawn_at must be null unless withdrawn is true",
            "withdrawn_at",
        )
    if withdrawn_at is not None and withdrawn_at < start:
        raise ContractError(
            "consent.withdrawn_at",
            "withdrawn_at must not be before effective_from",
            "withdrawn_at",
        )
    override = record["override"]
    if override is not None:
        if record["decision"] != "OBJECT":
            raise ContractError(
                "consent.override_decision",
                "an override only applies to an objection (decision OBJECT)",
                "override",
            )
        reference = override["legal_reference"]
        if override["reason_code"] in _NEEDS_LEGAL_REFERENCE and not reference:
            raise ContractError(
                "consent.override_reason",
                "an override for LEGAL_DUTY or OTHER must name its legal_reference",
                "override.legal_reference",
            )
        check_code(
            reference, "override.legal_reference", "consent.override_reason", _CODE, _CODE_SHAPE
        )
        check_code(
            override["recorded_by_role"],
            "override.recorded_by_role",
            "consent.override_role",
            _CODE,
            _CODE_SHAPE,
        )


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "consent.sharing_preference_recorded": _sharing_preference_recorded,
}


def validate(event_type: str, record: dict[str, Any]) -> None:
    """Raise ContractError when a decoded ``consent.*`` record breaks a rule Avro cannot express."""
    dispatch("consent", RULES, event_type, record)
