"""Mappings of child protection plans and reviews."""

import datetime as dt

import pytest

from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.protection import plan_events, review_events
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
STAMP = dt.datetime(2025, 9, 1, 9, 0)


def plan_row(**o):
    row = {
        "cppl_cp_plan_id": "CPPL2",
        "cppl_referral_id": "R0000001",
        "cppl_icpc_id": "ICPC1",
        "cppl_person_id": "C0000001",
        "cppl_cp_plan_start_date": dt.date(2025, 4, 3),
        "cppl_cp_plan_end_date": None,
        "cppl_cp_plan_ola": "N",
        "cppl_cp_plan_initial_category": "NEG",
        "cppl_cp_plan_latest_category": "neg",
        "cppl_cp_plan_team": "T1",
        "last_updated": STAMP,
        "nhs_number": "9990000018",
        "upn": None,
        "_dob": dt.date(2014, 2, 1),
        "_expected_dob": None,
        "person_plans": [
            {"cppl_cp_plan_start_date": dt.date(2021, 1, 5)},
            {"cppl_cp_plan_start_date": dt.date(2025, 4, 3)},
        ],
    }
    return {**row, **o}


def review_row(**o):
    row = {
        "cppr_cp_review_id": "CPPR1",
        "cppr_person_id": "C0000001",
        "cppr_cp_plan_id": "CPPL2",
        "cppr_cp_review_due": dt.date(2025, 7, 3),
        "cppr_cp_review_date": dt.date(2025, 7, 4),
        "cppr_cp_review_outcome_continue_cp": "Y",
        "cppr_cp_review_quorate": "Y",
        "cppr_cp_review_participation": "PN1",
        "last_updated": STAMP,
        "nhs_number": None,
        "upn": None,
        "plan": {"cppl_cp_plan_latest_category": "EMO"},
    }
    return {**row, **o}


def test_an_open_plan_is_started_only_and_counts_earlier_plans():
    [(t, e)] = plan_events(plan_row(), SRC)
    assert t == "case_management.cp_plan_started"
    assert e["number_previous_cpp"] == 1
    assert e["is_unborn"] is False and e["latest_category"] == "NEG"


def test_an_ended_plan_is_started_and_ended_with_two_event_ids():
    events = plan_events(plan_row(cppl_cp_plan_end_date=dt.date(2025, 8, 30)), SRC)
    assert [t for t, _ in events] == [
        "case_management.cp_plan_started",
        "case_management.cp_plan_ended",
    ]
    started, ended = (e["envelope"] for _, e in events)
    assert started["event_id"] != ended["event_id"]
    assert ended["source_record"]["version"].endswith("#ended")
    assert events[1][1]["end_date"] == dt.date(2025, 8, 30)


def test_a_pre_birth_plan_is_marked_unborn():
    [(_, e)] = plan_events(plan_row(_dob=None, _expected_dob=dt.date(2025, 6, 1)), SRC)
    assert e["is_unborn"] is True


def test_a_review_carries_participation_and_the_plans_latest_category():
    [(t, e)] = review_events(review_row(), SRC)
    assert t == "case_management.cp_plan_reviewed"
    assert (e["participation"], e["latest_category"]) == ("PN1", "EMO")


def test_a_review_not_yet_held_publishes_nothing():
    assert review_events(review_row(cppr_cp_review_date=None), SRC) == []


@pytest.mark.parametrize(
    "overrides,rule,field",
    [
        (
            {"cppl_cp_plan_initial_category": "ABC"},
            "category_of_abuse.code_list",
            "cppl_cp_plan_initial_category",
        ),
        (
            {"cppl_cp_plan_initial_category": None},
            "required.missing",
            "cppl_cp_plan_initial_category",
        ),
        ({"cppl_cp_plan_end_date": dt.date(2025, 1, 1)}, "dates.order", "cppl_cp_plan_end_date"),
        ({"cppl_cp_plan_ola": "perhaps"}, "yes_no.value", "cppl_cp_plan_ola"),
    ],
)
def test_a_bad_plan_names_the_rule_and_column(overrides, rule, field):
    with pytest.raises(ContractError) as err:
        plan_events(plan_row(**overrides), SRC)
    assert (err.value.rule, err.value.field) == (rule, field)
    for value in overrides.values():
        if isinstance(value, str) and len(value) > 3 and not value.isupper():
            assert value not in str(err.value)


def test_a_bad_participation_code_names_its_column():
    with pytest.raises(ContractError) as err:
        review_events(review_row(cppr_cp_review_participation="PN9"), SRC)
    assert (err.value.rule, err.value.field) == (
        "pn_participation.code_list",
        "cppr_cp_review_participation",
    )
