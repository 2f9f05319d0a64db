"""One synthetic example record per ``health.*`` event type (no real person's data).

ASQ-3 results are area scores and zones only, never questionnaire wording; the
parent's comment is an invented template sentence; the ODS code is fictitious.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.examples import envelope

UTC = dt.UTC
ENCOUNTER = "ENC0000789"
# A health visiting record: the child health system knows the NHS number, not the LA's id.
HEALTH_VISITING = {
    "la_child_id": None,
    "mis_child_id": "S1P0000004",
    "nhs_number": "9990000042",
    "nhs_number_verified": True,
    "source_system": "SYSTMONE",
    "source_instance": "s1-hv-test",
}

DEVELOPMENT_REVIEW_COMPLETED: dict[str, Any] = {
    "envelope": envelope(
        "health.development_review_completed",
        key="HVR0000789",
        entity="hv_reviews",
        when=dt.date(2025, 2, 10),
        recorded=dt.datetime(2025, 2, 10, 12, 0, tzinfo=UTC),
        correlation_id=ENCOUNTER,
        **HEALTH_VISITING,
    ),
    "encounter_id": ENCOUNTER,
    "review_date": dt.date(2025, 2, 10),
    "age_months": 27,
    "asq3_interval": "I27",
    "communication": {"score": 45.0, "zone": "ABOVE"},
    "gross_motor": {"score": 50.0, "zone": "ABOVE"},
    "fine_motor": {"score": 35.0, "zone": "ABOVE"},
    "problem_solving": {"score": 30.0, "zone": "MONITOR"},
    "personal_social": {"score": 42.5, "zone": "ABOVE"},
    "all_five_at_expected": True,
    "asqse2_score": 25,
    "parent_concerns": ["TALKING"],
    "concern_raised_by": "PARENT",
    "onward_referral": "CHILDRENS_CENTRE",
}

PARENT_COMMENT_RECORDED: dict[str, Any] = {
    "envelope": envelope(
        "health.parent_comment_recorded",
        key="PC0000321",
        entity="parent_comments",
        when=dt.datetime(2025, 2, 10, 10, 45, tzinfo=UTC),
        recorded=dt.datetime(2025, 2, 10, 12, 5, tzinfo=UTC),
        correlation_id=ENCOUNTER,
        **HEALTH_VISITING,
    ),
    "comment_id": "PC0000321",
    "about_encounter_id": ENCOUNTER,
    "author_role": "PARENT_CARER",
    "mode": "WRITTEN",
    "text": "She is saying lots of new words since starting nursery and loves story time. "
    "I would like ideas for helping her talk in sentences.",
    "language": "en",
    "consent_for_reports": {
        "strategic_reporting": True,
        "verbatim_quotes": False,
        "recorded_at": dt.datetime(2025, 2, 10, 10, 50, tzinfo=UTC),
    },
}

UNSCHEDULED_CARE_ATTENDANCE_NOTIFIED: dict[str, Any] = {
    "envelope": envelope(
        "health.unscheduled_care_attendance_notified",
        key="CPIS-N-0000055",
        entity="cpis_access_notifications",
        la_child_id="C0000005",
        nhs_number="9990000042",
        nhs_number_verified=True,
        when=dt.datetime(2025, 3, 1, 21, 47, tzinfo=UTC),
        recorded=dt.datetime(2025, 3, 1, 23, 10, tzinfo=UTC),
        source_system="OTHER",
        source_instance="cpis-mesh-test",
    ),
    "notification_id": "CPIS-N-0000055",
    "attendance_time": dt.datetime(2025, 3, 1, 21, 47, tzinfo=UTC),
    "care_setting_type": "ED",
    "ods_site_code": "RZZ01",
    "plan_type": "LAC",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "health.development_review_completed": DEVELOPMENT_REVIEW_COMPLETED,
    "health.parent_comment_recorded": PARENT_COMMENT_RECORDED,
    "health.unscheduled_care_attendance_notified": UNSCHEDULED_CARE_ATTENDANCE_NOTIFIED,
}
