"""The identifiers an event carries, as keyed tokens: never the values themselves."""

from __future__ import annotations

from typing import Any

from streams.pseudonyms import Pseudonymiser

IDENTITY_PURPOSE = "identity"  # the key of the identity processor's own tokens
LINKED_TYPES = {"NHS_NUMBER": "nhs", "UPN": "upn", "FORMER_UPN": "former_upn"}


def identifiers(record: dict[str, Any]) -> dict[str, str]:
    """kind -> value for the identifiers in an event (subject, and an identifier_linked event's)."""
    env = record["envelope"]
    subject = env.get("subject") or {}
    found: dict[str, str] = {}
    if subject.get("la_child_id"):
        found["la"] = f"{env['la_code']}:{subject['la_child_id']}"
    if subject.get("nhs_number"):
        found["nhs"] = subject["nhs_number"]
    if subject.get("upn"):
        found["upn"] = subject["upn"]
    kind = LINKED_TYPES.get(record.get("identifier_type") or "")
    ended = record.get("valid_to") is not None or env.get("operation") == "PURGE"
    if kind and record.get("value") and record.get("check_passed") is not False and not ended:
        found.setdefault(kind, record["value"])
    return found


def tokens(pseudonymiser: Pseudonymiser, record: dict[str, Any]) -> dict[str, str]:
    return {
        kind: pseudonymiser.pseudonym(IDENTITY_PURPOSE, kind, value)
        for kind, value in identifiers(record).items()
    }


def date_of_birth_token(pseudonymiser: Pseudonymiser, record: dict[str, Any]) -> str | None:
    dob = (
        record.get("dob")
        if record["envelope"]["event_type"].endswith("person_registered")
        else None
    )
    return (
        None if dob is None else pseudonymiser.pseudonym(IDENTITY_PURPOSE, "dob", dob.isoformat())
    )
