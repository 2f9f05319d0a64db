"""Contract rules Avro cannot express for the health domain (``health.*`` events).

The ASQ-3 cut-offs (mean - 2 SD) are those of the ASQ-3 User's Guide, Table 18,
for the intervals used at the 2-2 and a half year review (domain.md §3.1). A
score below the cut-off is in the referral zone (BELOW); at or above it the
child is at the expected level (MONITOR or ABOVE, which need the -1 SD
thresholds to tell apart and are not checked here).

Every rule raises :class:`schemas.errors.ContractError` with a stable rule id
and the field's path; messages never quote the value.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from typing import Any

from schemas.errors import ContractError
from schemas.validation.voice import check_code, check_language, check_restricted_text, dispatch

__all__ = ["ASQ3_CUTOFFS", "ASQ3_DOMAINS", "REVIEW_AGE_MONTHS", "RULES", "validate"]

ASQ3_DOMAINS = ("communication", "gross_motor", "fine_motor", "problem_solving", "personal_social")
ASQ3_MAX = 60.0
#: Cut-off (mean - 2 SD) per interval, in ASQ3_DOMAINS order.
ASQ3_CUTOFFS: dict[str, dict[str, float]] = {
    "I24": dict(zip(ASQ3_DOMAINS, (25.17, 38.07, 35.16, 29.78, 31.54), strict=True)),
    "I27": dict(zip(ASQ3_DOMAINS, (24.02, 28.01, 18.42, 27.62, 25.31), strict=True)),
    "I30": dict(zip(ASQ3_DOMAINS, (33.30, 36.14, 19.25, 27.08, 32.01), strict=True)),
}
#: Ages (completed months) at which a 2-2 and a half year review is accepted.
REVIEW_AGE_MONTHS = (18, 42)


def _float32(value: float) -> float:
    """``value`` as an Avro ``float`` carries it: scores compare alike before and after encoding."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}", re.ASCII)
_PARENT_RAISED = frozenset({"PARENT", "BOTH"})


def _development_review_completed(record: dict[str, Any]) -> None:
    low, high = REVIEW_AGE_MONTHS
    if not low <= record["age_months"] <= high:
        raise ContractError(
            "health.review_age",
            f"age_months must be between {low} and {high} for a 2-2 and a half year review",
            "age_months",
        )
    cutoffs = ASQ3_CUTOFFS[record["asq3_interval"]]
    any_below = False
    for domain in ASQ3_DOMAINS:
        result = record[domain]
        score = result["score"]
        if not (math.isfinite(score) and 0.0 <= score <= ASQ3_MAX):
            raise ContractError(
                "health.asq3_score",
                "an ASQ-3 area score must be between 0 and 60",
                f"{domain}.score",
            )
        below = _float32(score) < _float32(cutoffs[domain])
        if below != (result["zone"] == "BELOW"):
            raise ContractError(
                "health.asq3_zone",
                "zone must be BELOW exactly when the score is under the interval's cut-off",
                f"{domain}.zone",
            )
        any_below = any_below or below
    if record["all_five_at_expected"] == any_below:
        raise ContractError(
            "health.all_five_at_expected",
            "all_five_at_expected must be true exactly when no area is BELOW",
            "all_five_at_expected",
        )
    if record["asqse2_score"] is not None and record["asqse2_score"] < 0:
        raise ContractError(
            "health.asqse2_score", "asqse2_score must not be negative", "asqse2_score"
        )
    concerns = record["parent_concerns"]
    if len(set(concerns)) != len(concerns):
        raise ContractError(
            "health.parent_concerns", "each parent concern may appear once", "parent_concerns"
        )
    if bool(concerns) != (record["concern_raised_by"] in _PARENT_RAISED):
        raise ContractError(
            "health.concern_raised_by",
            "concern_raised_by must be PARENT or BOTH exactly when parent_concerns is not empty",
            "concern_raised_by",
        )


def _parent_comment_recorded(record: dict[str, Any]) -> None:
    check_restricted_text(record["text"], "text", required=True)
    check_language(record["language"])


def _unscheduled_care_attendance_notified(record: dict[str, Any]) -> None:
    if not record["envelope"]["subject"].get("nhs_number"):
        raise ContractError(
            "nhs_number.required",
            "a CP-IS notification must carry the NHS number",
            "envelope.subject.nhs_number",
        )
    check_code(
        record["ods_site_code"],
        "ods_site_code",
        "health.ods_code",
        _ODS_CODE,
        "an ODS code of 3-10 upper-case letters and digits",
    )


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "health.development_review_completed": _development_review_completed,
    "health.parent_comment_recorded": _parent_comment_recorded,
    "health.unscheduled_care_attendance_notified": _unscheduled_care_attendance_notified,
}


def validate(event_type: str, record: dict[str, Any]) -> None:
    """Raise ContractError when a decoded ``health.*`` record breaks a rule Avro cannot express."""
    dispatch("health", RULES, event_type, record)
