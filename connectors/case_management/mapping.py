"""From an SSD referral row to a case_management.referral event (pure functions).

A row that breaks a rule raises ContractError naming the rule and the field,
never the value, and the connector dead-letters it with its coordinates.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from connectors.common.events import envelope
from schemas.errors import ContractError
from schemas.identifiers import is_valid_nhs_number, is_valid_upn

EVENT_TYPE = "case_management.referral"
SCHEMA_VERSION = 1
ENTITY = "ssd_cin_episodes"

REFERRAL_SOURCES = frozenset(
    [
        "1A",
        "1B",
        "1C",
        "1D",
        "2A",
        "2B",
        "3A",
        "3B",
        "3C",
        "3D",
        "3E",
        "3F",
        "4",
        "5A",
        "5B",
        "5C",
        "5D",
        "6",
        "7",
        "8",
        "9",
        "10",
    ]
)
PRIMARY_NEEDS = frozenset(f"N{i}" for i in range(10))
CLOSURE_REASONS = frozenset(f"RC{i}" for i in range(1, 10))
OUTCOME_FLAGS = {
    "SINGLE_ASSESSMENT_FLAG": "single_assessment",
    "NFA_FLAG": "nfa",
    "STRATEGY_DISCUSSION_FLAG": "strategy_discussion",
    "CLA_REQUEST_FLAG": "cla_request",
    "NON_AGENCY_ADOPTION_FLAG": "non_agency_adoption",
    "PRIVATE_FOSTERING_FLAG": "private_fostering",
    "CP_TRANSFER_IN_FLAG": "cp_transfer_in",
    "CP_CONFERENCE_FLAG": "cp_conference",
    "CARE_LEAVER_FLAG": "care_leaver",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}


def _yn(value: Any, field: str) -> bool | None:
    if value in (None, ""):
        return None
    text = str(value).strip().upper()
    if text in ("Y", "YES", "TRUE", "1"):
        return True
    if text in ("N", "NO", "FALSE", "0"):
        return False
    raise ContractError("yes_no.value", f"{field} must be Y or N", field)


def _code(value: Any, allowed: frozenset[str], field: str, rule: str) -> str | None:
    if value in (None, ""):
        return None
    code = str(value).strip().upper()
    if code not in allowed:
        raise ContractError(rule, f"{field} is not in the {rule.split('.')[0]} code list", field)
    return code


def _date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ContractError("date.format", f"{field} is not a date", field) from None


def _outcome(text: Any) -> dict[str, bool | None] | None:
    if text in (None, ""):
        return None
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        raise ContractError(
            "outcome_json.parse",
            "cine_referral_outcome_json is not JSON",
            "cine_referral_outcome_json",
        ) from None
    if not isinstance(doc, dict):
        raise ContractError(
            "outcome_json.shape",
            "cine_referral_outcome_json is not an object",
            "cine_referral_outcome_json",
        )
    return {name: _yn(doc.get(flag), flag) for flag, name in OUTCOME_FLAGS.items()}


def subject(row: dict[str, Any]) -> dict[str, Any]:
    nhs = (row.get("nhs_number") or "").replace(" ", "") or None
    if nhs is not None and not is_valid_nhs_number(nhs):
        raise ContractError("nhs_number.check", "NHS number fails the mod-11 check", "nhs_number")
    upn = (row.get("upn") or "").strip().upper() or None
    if upn is not None and not is_valid_upn(upn):
        raise ContractError("upn.check", "UPN fails its format or check letter", "upn")
    return {"la_child_id": row["cine_person_id"], "nhs_number": nhs, "upn": upn}


def referral_event(
    row: dict[str, Any], *, source_instance: str, source_system: str, la_code: str
) -> dict[str, Any]:
    key = str(row["cine_referral_id"])
    referral_date = _date(row.get("cine_referral_date"), "cine_referral_date")
    if referral_date is None:
        raise ContractError(
            "required.missing", "cine_referral_date is required", "cine_referral_date"
        )
    source = _code(
        row.get("cine_referral_source_code"),
        REFERRAL_SOURCES,
        "cine_referral_source_code",
        "referral_source.code_list",
    )
    if source is None:
        raise ContractError(
            "required.missing", "cine_referral_source_code is required", "cine_referral_source_code"
        )
    close_date = _date(row.get("cine_close_date"), "cine_close_date")
    if close_date is not None and close_date < referral_date:
        raise ContractError(
            "dates.order", "cine_close_date is before cine_referral_date", "cine_close_date"
        )
    need = _code(
        row.get("cine_cin_primary_need_code"),
        PRIMARY_NEEDS,
        "cine_cin_primary_need_code",
        "primary_need.code_list",
    )
    close_reason = _code(
        row.get("cine_close_reason"),
        CLOSURE_REASONS,
        "cine_close_reason",
        "closure_reason.code_list",
    )
    last_updated: dt.datetime = row["last_updated"]
    return {
        "envelope": envelope(
            event_type=EVENT_TYPE,
            schema_version=SCHEMA_VERSION,
            source_system=source_system,
            source_instance=source_instance,
            la_code=la_code,
            entity=ENTITY,
            key=key,
            version=last_updated.isoformat(),
            event_time=referral_date,
            recorded_time=last_updated,
            subject=subject(row),
            correlation_id=key,
        ),
        "referral_id": key,
        "referral_date": referral_date,
        "referral_source": f"RS_{source}",
        "primary_need": need,
        "referral_nfa": _yn(row.get("cine_referral_nfa"), "cine_referral_nfa"),
        "outcome": _outcome(row.get("cine_referral_outcome_json")),
        "close_date": close_date,
        "close_reason": close_reason,
        "team": row.get("cine_referral_team"),
    }
