"""One synthetic example record per ``voice.*`` event type (no real person's data).

Identifiers come from the synthetic ranges (NHS numbers 999..., UPNs with a
fictitious school); the words are invented template sentences, never the
wording of any published instrument.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.examples import envelope

UTC = dt.UTC

STATEMENT_RECORDED: dict[str, Any] = {
    "envelope": envelope(
        "voice.statement_recorded",
        key="VS0000001",
        entity="voice_statements",
        la_child_id="C0000001",
        nhs_number="9990000018",
        nhs_number_verified=True,
        upn="Q820200110017",
        when=dt.datetime(2025, 5, 12, 11, 30, tzinfo=UTC),
        recorded=dt.datetime(2025, 5, 12, 14, 5, tzinfo=UTC),
        source_instance="lcs-test",
        correlation_id="PP0000042",
    ),
    "statement_id": "VS0000001",
    "author_role": "YOUNG_PERSON",
    "context": "PATHWAY_PLAN",
    "instrument": "OTHER",
    "instrument_code": "PATHWAY_DOMAIN_SCALE",
    "mode": "WRITTEN",
    "expressed_at": dt.datetime(2025, 5, 12, 11, 30, tzinfo=UTC),
    "items": [
        {
            "item_code": "ACCOMMODATION",
            "score": 7,
            "scale_min": 0,
            "scale_max": 10,
            "answer_yn": None,
        },
        {
            "item_code": "PRACTICAL_SKILLS",
            "score": 4,
            "scale_min": 0,
            "scale_max": 10,
            "answer_yn": None,
        },
        {
            "item_code": "FELT_LISTENED_TO",
            "score": None,
            "scale_min": None,
            "scale_max": None,
            "answer_yn": True,
        },
    ],
    "text": "I like my flat and it feels like mine. I want help learning to cook and to plan "
    "my money each week.",
    "language": "en",
    "themes": ["accommodation", "independent_living_skills"],
    "consent_for_reports": {
        "strategic_reporting": True,
        "verbatim_quotes": False,
        "recorded_at": dt.datetime(2025, 5, 12, 11, 45, tzinfo=UTC),
    },
    "about_correlation_id": "PP0000042",
}

VOICE_NOTE_RECORDED: dict[str, Any] = {
    "envelope": envelope(
        "voice.voice_note_recorded",
        key="VN0000001",
        entity="voice_notes",
        la_child_id="C0000002",
        nhs_number="9990000026",
        family_id="F0000002",
        when=dt.datetime(2025, 4, 2, 10, 15, tzinfo=UTC),
        recorded=dt.datetime(2025, 4, 2, 10, 40, tzinfo=UTC),
        source_system="LIQUIDLOGIC_EHM",
        source_instance="ehm-test",
        correlation_id="EHR0000456",
    ),
    "voice_note_id": "VN0000001",
    "referral_id": "EHR0000456",
    "recorded_at": dt.datetime(2025, 4, 2, 10, 15, tzinfo=UTC),
    "hub_meeting_date": dt.date(2025, 4, 8),
    "author_role": "PARENT_CARER",
    "mode": "SPOKEN",
    "items": [
        {
            "item_code": "WHAT_MATTERS_TO_US",
            "text": "That the children feel settled at home and keep going to the same school.",
        },
        {"item_code": "WHATS_WORKING", "text": "Their grandad picks them up twice a week."},
        {"item_code": "WORRIES", "text": "Mornings are hard and we are often late."},
        {"item_code": "WHAT_WOULD_HELP", "text": None},
    ],
    "language": "en",
    "consent_for_reports": {
        "strategic_reporting": True,
        "verbatim_quotes": True,
        "recorded_at": dt.datetime(2025, 4, 2, 10, 35, tzinfo=UTC),
    },
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "voice.statement_recorded": STATEMENT_RECORDED,
    "voice.voice_note_recorded": VOICE_NOTE_RECORDED,
}
