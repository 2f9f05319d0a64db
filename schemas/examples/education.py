"""One synthetic example record per ``education.*`` event type (no real person's data).

The UPN carries a valid check letter and a fictitious school; URNs are made up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.examples import envelope

UTC = dt.UTC
SUBJECT: dict[str, Any] = {
    "la_child_id": "C0000006",
    "mis_child_id": "SIMS-0004211",
    "nhs_number": "9990000050",
    "nhs_number_verified": False,
    "upn": "W820200124001",
}
SCHOOL_URN = "199901"


def _envelope(
    event_type: str,
    key: str,
    entity: str,
    when: dt.datetime | dt.date,
    recorded: dt.datetime,
    **source: str,
) -> dict[str, Any]:
    return envelope(
        event_type,
        key=key,
        entity=entity,
        when=when,
        recorded=recorded,
        **{"source_system": "SIMS", "source_instance": "sims-test", **source},
        **SUBJECT,
    )


_ELG_OUTCOMES = [
    # Writing (ELG10) emerging, so no good level of development.
    {"elg": f"ELG{n:02d}", "outcome": "EMERGING" if n == 10 else "EXPECTED"}
    for n in range(1, 18)
]

EYFSP_ASSESSED: dict[str, Any] = {
    "envelope": _envelope(
        "education.eyfsp_assessed",
        "EYFSP-2425-0004211",
        "eyfsp_results",
        dt.date(2025, 6, 20),
        dt.datetime(2025, 6, 24, 9, 0, tzinfo=UTC),
    ),
    "academic_year": "2024/25",
    "setting_urn": SCHOOL_URN,
    "establishment_number": "2001",
    "elg_outcomes": _ELG_OUTCOMES,
    "gld": False,
}

ATTENDANCE_SUMMARISED: dict[str, Any] = {
    "envelope": _envelope(
        "education.attendance_summarised",
        "ATT-2425-AUT-0004211",
        "attendance_terms",
        dt.date(2024, 12, 20),
        dt.datetime(2025, 1, 6, 7, 0, tzinfo=UTC),
    ),
    "academic_year": "2024/25",
    "term": "AUTUMN",
    "school_urn": SCHOOL_URN,
    "sessions_possible": 142,
    "authorised_absences": 10,
    "unauthorised_absences": 6,
    # 126 present (incl. late) + 16 absent = 142 possible; 16/142 = 11.3%.
    "by_code": {
        "PRESENT_AM": 63,
        "PRESENT_PM": 61,
        "L": 2,
        "I": 8,
        "M": 2,
        "O": 4,
        "G": 2,
    },
    "persistent_absence_10": True,
    "severe_absence_50": False,
}

SUSPENSION_OR_EXCLUSION: dict[str, Any] = {
    "envelope": _envelope(
        "education.suspension_or_exclusion",
        "EXC0000077",
        "exclusions",
        dt.date(2025, 1, 20),
        dt.datetime(2025, 1, 17, 15, 30, tzinfo=UTC),
    ),
    "exclusion_id": "EXC0000077",
    "school_urn": SCHOOL_URN,
    "category": "SUSPENSION",
    "start_date": dt.date(2025, 1, 20),
    "sessions": 4,
    "reasons": ["DB"],
}

SEN_STATUS_CHANGED: dict[str, Any] = {
    "envelope": _envelope(
        "education.sen_status_changed",
        "SEN-0004211-20241104",
        "sen_status",
        dt.date(2024, 11, 4),
        dt.datetime(2024, 11, 4, 16, 0, tzinfo=UTC),
    ),
    "effective_date": dt.date(2024, 11, 4),
    "sen_provision": "K",
    "needs": [
        {"need_type": "SLCN", "rank": 1},
        {"need_type": "SEMH", "rank": 2},
    ],
}

EHCP_MILESTONE: dict[str, Any] = {
    "envelope": _envelope(
        "education.ehcp_milestone",
        "EHCR0000031-PLAN_ISSUED",
        "ehcp_milestones",
        dt.date(2025, 1, 13),
        dt.datetime(2025, 1, 13, 12, 0, tzinfo=UTC),
        source_system="CAPITA_ONE",
        source_instance="one-send-test",
    ),
    "request_id": "EHCR0000031",
    "milestone": "PLAN_ISSUED",
    "milestone_date": dt.date(2025, 1, 13),
    "request_date": dt.date(2024, 9, 2),
    "within_20_weeks": True,
    "exception": False,
    "ceased_reason": None,
}

FSM_ELIGIBILITY_CHANGED: dict[str, Any] = {
    "envelope": _envelope(
        "education.fsm_eligibility_changed",
        "FSM-0004211-20241104",
        "fsm_periods",
        dt.date(2024, 11, 4),
        dt.datetime(2024, 11, 5, 8, 0, tzinfo=UTC),
    ),
    "eligible": True,
    "start_date": dt.date(2024, 11, 4),
    "end_date": None,
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "education.eyfsp_assessed": EYFSP_ASSESSED,
    "education.attendance_summarised": ATTENDANCE_SUMMARISED,
    "education.suspension_or_exclusion": SUSPENSION_OR_EXCLUSION,
    "education.sen_status_changed": SEN_STATUS_CHANGED,
    "education.ehcp_milestone": EHCP_MILESTONE,
    "education.fsm_eligibility_changed": FSM_ELIGIBILITY_CHANGED,
}
