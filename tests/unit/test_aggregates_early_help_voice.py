"""Early help and the Voice Note: before the hub meeting, re-referral, escalation."""

from __future__ import annotations

from streams.aggregates import cellstore
from streams.aggregates import early_help_voice as eh
from tests.unit.test_aggregates_engine import key, shared

CHILD = "c" * 32


def started(record, start):
    return shared("case_management.early_help_episode_started", CHILD, record, start_date=start)


def ended(record, start, end, reason="OUTCOMES_MET"):
    return shared(
        "case_management.early_help_episode_ended",
        CHILD,
        record,
        start_date=start,
        end_date=end,
        end_reason=reason,
    )


def note(recorded, hub, role="PARENT_CARER", record="n" * 32):
    return shared(
        "voice.voice_note_recorded",
        CHILD,
        record,
        recorded_at=recorded,
        hub_meeting_date=hub,
        author_role=role,
    )


def csc_referral(month):
    return shared("case_management.referral", CHILD, "f" * 32, referral_date=month)


def cells(*messages):
    store = cellstore.recompute(
        eh.SPEC, [(m["share"]["event_type"], m) for m in messages], key(eh.SPEC)
    )
    return {k: next(iter(v.values())) for k, v in store.members().items()}


def test_a_parent_voice_note_before_the_hub_meeting_is_counted_with_the_referral():
    out = cells(started("e" * 32, "2025-03"), note("2025-03", "2025-04"))
    assert out["referrals|2025-03|UNKNOWN"] == {"n": 1, "vn_hub": 1}
    late = cells(started("e" * 32, "2025-03"), note("2025-05", "2025-04"))
    assert late["referrals|2025-03|UNKNOWN"] == {"n": 1}
    no_hub = cells(started("e" * 32, "2025-03"), note("2025-03", None))
    assert no_hub["referrals|2025-03|UNKNOWN"] == {"n": 1}
    child_note = cells(started("e" * 32, "2025-03"), note("2025-03", "2025-04", role="CHILD"))
    assert child_note["referrals|2025-03|UNKNOWN"] == {"n": 1}


def test_started_and_ended_events_of_one_episode_are_one_member():
    out = cells(started("e" * 32, "2025-01"), ended("e" * 32, "2025-01", "2025-05"))
    assert out["referrals|2025-01|UNKNOWN"]["n"] == 1
    assert out["outcomes|2025-H1|UNKNOWN|NOT_RECORDED"] == {"n": 1}


def test_a_new_episode_within_12_months_of_the_end_is_a_re_referral():
    out = cells(
        ended("a" * 32, "2024-01", "2024-04"),
        note("2024-01", "2024-02", record="m" * 32),
        started("b" * 32, "2025-03"),
    )
    assert out["outcomes|2024-H1|UNKNOWN|RECORDED"] == {"n": 1, "rereferred": 1}
    later = cells(ended("a" * 32, "2024-01", "2024-04"), started("b" * 32, "2025-06"))
    assert later["outcomes|2024-H1|UNKNOWN|NOT_RECORDED"] == {"n": 1}


def test_a_step_up_or_a_social_care_referral_within_12_months_is_an_escalation():
    step_up = cells(ended("a" * 32, "2024-01", "2024-04", reason="STEP_UP_CSC"))
    assert step_up["outcomes|2024-H1|UNKNOWN|NOT_RECORDED"]["escalated"] == 1
    referred = cells(ended("a" * 32, "2024-01", "2024-04"), csc_referral("2024-12"))
    assert referred["outcomes|2024-H1|UNKNOWN|NOT_RECORDED"]["escalated"] == 1
    too_late = cells(ended("a" * 32, "2024-01", "2024-04"), csc_referral("2025-06"))
    assert "escalated" not in too_late["outcomes|2024-H1|UNKNOWN|NOT_RECORDED"]


def test_a_voice_note_goes_with_the_latest_episode_it_can_belong_to():
    eps = eh.episodes(
        {
            "a:early_help_episode_ended": {
                "e": "early_help_episode_ended",
                "s": "2024-01",
                "end": "2024-03",
                "why": "OUTCOMES_MET",
            },
            "b:early_help_episode_started": {"e": "early_help_episode_started", "s": "2024-09"},
            "n:voice_note_recorded": {
                "e": "voice_note_recorded",
                "m": "2024-08",
                "hub": "2024-09",
                "parent": True,
            },
        }
    )
    assert eps["b"]["notes"] and not eps["a"]["notes"]


def test_the_totals_cover_every_area_and_both_voice_note_groups():
    out = cells(ended("a" * 32, "2024-01", "2024-04"))
    assert "outcomes|2024-H1|ALL|ALL" in out and "outcomes|2024-H1|UNKNOWN|ALL" in out
