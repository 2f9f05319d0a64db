"""One synthetic example record per ``consent.*`` event type (no real person's data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.examples import envelope

UTC = dt.UTC

SHARING_PREFERENCE_RECORDED: dict[str, Any] = {
    "envelope": envelope(
        "consent.sharing_preference_recorded",
        key="SP0000001",
        entity="sharing_preferences",
        la_child_id="C0000003",
        nhs_number="9990000034",
        nhs_number_verified=True,
        upn="A820200115003",
        when=dt.datetime(2025, 6, 3, 15, 0, tzinfo=UTC),
        recorded=dt.datetime(2025, 6, 3, 16, 20, tzinfo=UTC),
        source_instance="lcs-test",
    ),
    "preference_id": "SP0000001",
    "expressed_by": "CHILD",
    "child_age_years": 14,
    "competence_assessed": "GILLICK_COMPETENT",
    "scope": {"purpose": "strategic_reporting", "recipient": None, "data_category": "voice"},
    "decision": "OBJECT",
    "effective_from": dt.datetime(2025, 6, 3, 15, 0, tzinfo=UTC),
    "effective_to": dt.datetime(2026, 6, 3, 0, 0, tzinfo=UTC),
    "withdrawn": False,
    "withdrawn_at": None,
    "override": None,
    "national_data_opt_out": None,
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "consent.sharing_preference_recorded": SHARING_PREFERENCE_RECORDED,
}
