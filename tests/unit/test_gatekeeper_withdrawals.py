"""What the gatekeeper tells strategic reporting a person's wishes withdraw (pure parts).

The policy's answers here come from a small rule written out below (objections
stop everything but the events a statutory duty needs); the real policy is
asked in tests/integration/test_consent_withdrawal.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from streams.gatekeeper import withdrawals
from streams.gatekeeper.decision_input import SubjectState
from streams.gatekeeper.subjects import PREFERENCE, updated
from streams.policy_client import Decision

DAY = "2026-06-01"
TYPES = ["case_management.referral", "voice.statement_recorded", "education.eyfsp_assessed"]
RECEIVED = {"case_management.referral", "voice.statement_recorded"}  # by strategic reporting


def decision(allow: bool) -> Decision:
    return Decision(allow, ("r",), {}, None, frozenset(), None, "rev")


def rule(objects_to: set[str] | None = None):
    """Strategic reporting receives RECEIVED; an objection (data_category None or an event
    type) stops what it covers. Records every question asked."""
    asked: list[dict[str, Any]] = []

    async def ask(question: dict[str, Any]) -> Decision:
        asked.append(question)
        et = question["event_type"]
        prefs = (question.get("subject") or {}).get("preferences") or []
        objected = any(
            p["decision"] == "OBJECT" and p["data_category"] in (None, et) for p in prefs
        )
        return decision(et in RECEIVED and not objected)

    return ask, asked


def objection(category: str | None = None, **extra) -> dict[str, Any]:
    return {
        "expressed_by": "YOUNG_PERSON",
        "decision": "OBJECT",
        "scope": {"purpose": "strategic_reporting", "recipient": None, "data_category": category},
        "effective_from": "2026-01-01T00:00:00+00:00",
        "withdrawn": False,
        **extra,
    }


def types_for(prefs: list[dict[str, Any]]) -> list[str]:
    ask, _ = rule()
    subject = SubjectState(preferences=prefs)
    return asyncio.run(withdrawals.withdrawn_types(ask, ["team"], TYPES, DAY, subject))


def test_an_objection_to_everything_withdraws_everything():
    assert types_for([objection()]) == ["*"]


def test_an_objection_to_one_event_type_withdraws_only_that():
    assert types_for([objection("voice.statement_recorded")]) == ["voice.statement_recorded"]


def test_no_wishes_or_a_withdrawn_objection_withdraw_nothing():
    assert types_for([]) == []
    assert types_for([objection(withdrawn=True)]) == []


def test_the_baseline_is_asked_with_the_voice_consents_given_and_no_preferences():
    ask, asked = rule()
    subject = SubjectState(preferences=[objection()], safeguarding_concern=True)
    asyncio.run(withdrawals.withdrawn_types(ask, ["team"], TYPES, DAY, subject))
    assert all(q["purpose"] == "strategic_reporting" and q["date"] == DAY for q in asked)
    assert all(
        q["voice_consent"] == {"strategic_reporting": True, "verbatim_quotes": True} for q in asked
    )
    baseline = [q for q in asked if not q["subject"]["preferences"]]
    assert {q["event_type"] for q in baseline} == set(TYPES)
    assert all(q["subject"]["safeguarding_concern"] for q in asked)


def test_a_message_only_when_the_list_changes_or_a_preference_restates_it():
    when = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    first = withdrawals.withdrawal({"preferences": {}}, ["*"], DAY, when, "psd", "rev")
    assert first.message == {
        "person_pseudonym": "psd",
        "event_types": ["*"],
        "effective_at": when,
        "policy_revision": "rev",
        "record_pseudonyms": [],
    }
    same = withdrawals.withdrawal(first.state, ["*"], DAY, when, "psd", "rev")
    assert same.message is None
    again = withdrawals.withdrawal(first.state, ["*"], DAY, when, "psd", "rev", restate=True)
    assert again.message is not None and again.message["effective_at"] == when
    earlier = when - dt.timedelta(days=30)  # a later message never goes back in time
    lifted = withdrawals.withdrawal(first.state, [], DAY, earlier, "psd", "rev")
    assert lifted.message["event_types"] == []
    assert lifted.message["effective_at"] > when
    nothing = withdrawals.withdrawal({}, [], DAY, when, "psd", "rev", restate=True)
    assert nothing.message is None


def test_checked_on_every_preference_event_and_then_once_a_day():
    state = {"preferences": {"P1": objection()}}
    assert withdrawals.needs_check(state, PREFERENCE, DAY)
    assert withdrawals.needs_check(state, "case_management.referral", DAY)
    checked = withdrawals.withdrawal(state, ["*"], DAY, dt.datetime.now(dt.UTC), "p", "r").state
    assert not withdrawals.needs_check(checked, "case_management.referral", DAY)
    assert withdrawals.needs_check(checked, "case_management.referral", "2026-06-02")
    assert not withdrawals.needs_check(None, PREFERENCE, DAY)
    assert not withdrawals.needs_check({"open_cp_plans": ["X"]}, "case_management.referral", DAY)


def test_the_subjects_state_keeps_the_withdrawal_through_later_events():
    state = {"preferences": {}, "open_cp_plans": [], "national_data_opt_out": None}
    state = withdrawals.withdrawal(state, ["*"], DAY, dt.datetime.now(dt.UTC), "p", "r").state
    record = {"envelope": {"operation": "UPSERT"}, "cp_plan_id": "CP1"}
    new = updated(state, "case_management.cp_plan_started", record)
    assert new is not None and new[withdrawals.STATE_KEY]["types"] == ["*"]
    assert new["open_cp_plans"] == ["CP1"]


def test_the_topic_is_strategic_reportings_subject_withdrawn_share_topic():
    from deploy.topic_plan import planned_topics
    from streams.aggregates.engine import withdrawn_topic

    assert withdrawals.withdrawn_topic("t1.") == withdrawn_topic("t1.")
    assert withdrawn_topic("t1.") in {t.name for t in planned_topics("t1.")}
    assert "consent.sharing_preference_recorded" in withdrawals.source_event_types()


def test_equal_wishes_recorded_at_different_times_share_a_memo_key_and_others_do_not():
    early = SubjectState(preferences=[objection(effective_from="2025-01-01T00:00:00+00:00")])
    late = SubjectState(preferences=[objection(effective_from="2025-06-01T09:30:00+00:00")])
    assert withdrawals.subject_key(DAY, early) == withdrawals.subject_key(DAY, late)
    narrower = SubjectState(preferences=[objection("voice.statement_recorded")])
    assert withdrawals.subject_key(DAY, narrower) != withdrawals.subject_key(DAY, early)
    concern = SubjectState(preferences=[objection()], safeguarding_concern=True)
    assert withdrawals.subject_key(DAY, concern) != withdrawals.subject_key(DAY, early)
    # a wish not yet in effect on the day is not part of what the policy sees
    future = SubjectState(preferences=[objection(effective_from="2027-01-01T00:00:00+00:00")])
    assert withdrawals.subject_key(DAY, future) == withdrawals.subject_key(DAY, SubjectState())
