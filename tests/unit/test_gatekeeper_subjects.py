"""The gatekeeper's memory of each child's wishes and concerns."""

import copy

from schemas.examples.case_management import EXAMPLES as CM
from schemas.examples.consent import EXAMPLES as CONSENT
from streams.gatekeeper.subjects import subject_state, updated

PREF = "consent.sharing_preference_recorded"


def preference(pid: str, operation: str = "UPSERT", **changes):
    record = copy.deepcopy(CONSENT[PREF])
    record["preference_id"] = pid
    record["envelope"]["operation"] = operation
    record.update(changes)
    return record


def test_preferences_are_kept_by_id_and_a_purge_removes_one():
    state = updated(None, PREF, preference("p1"))
    state = updated(state, PREF, preference("p2", decision="OBJECT"))
    assert sorted(state["preferences"]) == ["p1", "p2"]
    replaced = updated(state, PREF, preference("p1", withdrawn=True, withdrawn_at=None))
    assert replaced["preferences"]["p1"]["withdrawn"] is True
    purged = updated(replaced, PREF, preference("p2", operation="PURGE"))
    assert sorted(purged["preferences"]) == ["p1"]
    assert all(isinstance(v, str) for v in [purged["preferences"]["p1"]["effective_from"]])


def test_a_concern_is_active_while_a_cp_plan_is_open():
    started = copy.deepcopy(CM["case_management.cp_plan_started"])
    ended = copy.deepcopy(CM["case_management.cp_plan_ended"])
    ended["cp_plan_id"] = started["cp_plan_id"]
    state = updated(None, "case_management.cp_plan_started", started)
    assert subject_state(state).safeguarding_concern is True
    state = updated(state, "case_management.cp_plan_ended", ended)
    assert subject_state(state).safeguarding_concern is False


def test_events_that_say_nothing_about_wishes_change_nothing():
    state = updated(None, PREF, preference("p1"))
    assert updated(state, "case_management.referral", CM["case_management.referral"]) is None
    assert updated(state, PREF, preference("p1")) is None  # a replay
    assert subject_state(None) is None


def test_the_national_data_opt_out_is_remembered():
    state = updated(None, PREF, preference("p1", national_data_opt_out=True))
    assert subject_state(state).national_data_opt_out is True
    state = updated(state, PREF, preference("p2", national_data_opt_out=None))
    assert subject_state(state).national_data_opt_out is True
