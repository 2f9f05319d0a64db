"""The decision input: metadata only, preferences in effect on the day, stable for caching."""

from __future__ import annotations

import copy
import datetime as dt
import json

from schemas.examples.case_management import example
from schemas.examples.consent import SHARING_PREFERENCE_RECORDED
from schemas.examples.voice import STATEMENT_RECORDED, VOICE_NOTE_RECORDED
from streams.gatekeeper.decision_input import SubjectState, decision_input, in_effect

UTC = dt.UTC
DAY = "2026-06-01"


def preference(**changes):
    """The synthetic preference payload (as decoded from consent.sharing_preference_recorded)."""
    pref = {k: v for k, v in copy.deepcopy(SHARING_PREFERENCE_RECORDED).items() if k != "envelope"}
    pref.update(
        effective_from=dt.datetime(2026, 1, 1, tzinfo=UTC),
        effective_to=None,
        withdrawn=False,
        withdrawn_at=None,
        override=None,
    )
    pref.update(changes)
    return pref


def test_input_has_the_contract_keys_and_no_subject_when_unknown():
    record = example("case_management.referral")
    got = decision_input(
        "case_management.referral", record, "la_performance_team", "strategic_reporting", DAY, None
    )
    assert got == {
        "event_type": "case_management.referral",
        "purpose": "strategic_reporting",
        "recipient": "la_performance_team",
        "date": DAY,
        "voice_consent": None,
    }


def test_voice_consent_comes_from_the_event():
    got = decision_input("voice.statement_recorded", STATEMENT_RECORDED, "r", "p", DAY, None)
    assert got["voice_consent"] == {"strategic_reporting": True, "verbatim_quotes": False}
    got = decision_input("voice.voice_note_recorded", VOICE_NOTE_RECORDED, "r", "p", DAY, None)
    assert got["voice_consent"] == {"strategic_reporting": True, "verbatim_quotes": True}


def test_voice_consent_from_a_json_event_with_iso_timestamps():
    record = json.loads(json.dumps(STATEMENT_RECORDED, default=str))
    got = decision_input("voice.statement_recorded", record, "r", "p", DAY, None)
    assert got["voice_consent"] == {"strategic_reporting": True, "verbatim_quotes": False}


def test_input_never_carries_payload_values():
    record = copy.deepcopy(STATEMENT_RECORDED)
    state = SubjectState(preferences=[preference()], safeguarding_concern=True)
    text = json.dumps(decision_input("voice.statement_recorded", record, "r", "p", DAY, state))
    for value in (record["text"], record["statement_id"], "9990000018", "C0000001"):
        assert value not in text
    assert SHARING_PREFERENCE_RECORDED["preference_id"] not in text


def test_subject_state_becomes_flat_preferences():
    override = {
        "reason_code": "LEGAL_DUTY",
        "legal_reference": "CA1989_S47",
        "recorded_by_role": "team_manager",
        "recorded_at": dt.datetime(2026, 2, 1, tzinfo=UTC),
    }
    state = SubjectState(
        preferences=[preference(decision="OBJECT", override=override)],
        safeguarding_concern=False,
        national_data_opt_out=True,
    )
    got = decision_input("case_management.referral", {}, "r", "p", DAY, state)["subject"]
    assert got == {
        "preferences": [
            {
                "expressed_by": SHARING_PREFERENCE_RECORDED["expressed_by"],
                "child_age_years": SHARING_PREFERENCE_RECORDED["child_age_years"],
                "competence_assessed": SHARING_PREFERENCE_RECORDED["competence_assessed"],
                "purpose": SHARING_PREFERENCE_RECORDED["scope"]["purpose"],
                "recipient": SHARING_PREFERENCE_RECORDED["scope"]["recipient"],
                "data_category": SHARING_PREFERENCE_RECORDED["scope"]["data_category"],
                "decision": "OBJECT",
                "override": {"reason_code": "LEGAL_DUTY", "legal_reference": "CA1989_S47"},
            }
        ],
        "safeguarding_concern": False,
        "national_data_opt_out": True,
    }


def test_preferences_already_in_input_shape_pass_through():
    flat = {"expressed_by": "PARENT_CARER", "decision": "ALLOW", "data_category": "voice"}
    got = decision_input("x.y", {}, "r", "p", DAY, SubjectState(preferences=[flat]))
    pref = got["subject"]["preferences"][0]
    assert pref["data_category"] == "voice" and pref["purpose"] is None
    assert pref["override"] is None


def test_withdrawn_preferences_are_left_out():
    state = SubjectState(preferences=[preference(decision="ALLOW", withdrawn=True)])
    assert decision_input("x.y", {}, "r", "p", DAY, state)["subject"]["preferences"] == []
    state = SubjectState(preferences=[preference(decision="OBJECT", withdrawn=True)])
    assert decision_input("x.y", {}, "r", "p", DAY, state)["subject"]["preferences"] == []


def test_preferences_not_yet_in_effect_or_lapsed_are_left_out():
    day = dt.date(2026, 6, 1)
    future = preference(effective_from=dt.datetime(2026, 7, 1, tzinfo=UTC))
    lapsed = preference(effective_to=dt.datetime(2026, 5, 31, tzinfo=UTC))
    current = preference(effective_to=dt.datetime(2026, 12, 31, tzinfo=UTC))
    assert not in_effect(future, day)
    assert not in_effect(lapsed, day)
    assert in_effect(current, day)


def test_on_a_day_a_preference_starts_an_objection_counts_and_a_consent_does_not():
    day = dt.date(2026, 6, 1)
    starts = dt.datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    assert in_effect(preference(decision="OBJECT", effective_from=starts), day)
    assert not in_effect(preference(decision="ALLOW", effective_from=starts), day)


def test_on_the_day_a_preference_lapses_an_objection_counts_and_a_consent_does_not():
    day = dt.date(2026, 6, 1)
    lapses = dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert in_effect(preference(decision="OBJECT", effective_to=lapses), day)
    assert not in_effect(preference(decision="ALLOW", effective_to=lapses), day)


def test_iso_string_timestamps_are_read():
    pref = preference(
        effective_from="2026-01-01T00:00:00Z", effective_to="2026-12-31T00:00:00+00:00"
    )
    assert in_effect(pref, dt.date(2026, 6, 1))


def test_equal_states_give_equal_inputs_whatever_the_order():
    a = preference(decision="ALLOW", expressed_by="PARENT_CARER")
    b = preference(decision="OBJECT", expressed_by="CHILD")
    one = decision_input("x.y", {}, "r", "p", DAY, SubjectState(preferences=[a, b]))
    two = decision_input("x.y", {}, "r", "p", DAY, SubjectState(preferences=[b, a]))
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
