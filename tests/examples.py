"""Synthetic example events for tests (no real person's data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.case_management.mapping import referral_event


def referral_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "cine_referral_id": "R0000001",
        "cine_person_id": "C0000001",
        "cine_referral_date": dt.date(2025, 3, 14),
        "cine_cin_primary_need_code": "N1",
        "cine_referral_source_code": "2A",
        "cine_referral_source_desc": "Schools",
        "cine_referral_outcome_json": '{"SINGLE_ASSESSMENT_FLAG": "Y", "NFA_FLAG": "N"}',
        "cine_referral_nfa": "N",
        "cine_close_reason": None,
        "cine_close_date": None,
        "cine_referral_team": "T01",
        "cine_referral_worker_id": "W01",
        "last_updated": dt.datetime(2025, 3, 15, 9, 30),
        "nhs_number": "9990000018",
        "upn": "W820200124001",
    }
    row.update(overrides)
    return row


def referral(**overrides: Any) -> dict[str, Any]:
    return referral_event(
        referral_row(**overrides),
        source_instance="lcs-test",
        source_system="LIQUIDLOGIC_LCS",
        la_code="999",
    )
