"""Mappings of contacts, assessments, s47 enquiries, conferences and CIN plans."""

import datetime as dt
import json

import pytest

from connectors.case_management.mappings.assessment import (
    assessment_events,
    cin_plan_events,
    icpc_events,
    s47_events,
)
from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.front_door import contact_events
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
WHO = {"nhs_number": "9990000018", "upn": None}
STAMP = dt.datetime(2025, 4, 1, 9, 0)


def contact_row(**o):
    row = {
        "cont_contact_id": "CT00000001",
        "cont_person_id": "C0000001",
        "cont_contact_date": dt.datetime(2025, 3, 12, 10, 30),
        "cont_contact_source_code": "2A",
        "cont_contact_outcome_json": json.dumps({"NEW_REFERRAL_FLAG": "Y", "NFA_FLAG": "N"}),
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def assessment_row(**o):
    row = {
        "cina_assessment_id": "CINA1",
        "cina_person_id": "C0000001",
        "cina_referral_id": "R0000001",
        "cina_assessment_start_date": dt.date(2025, 3, 15),
        "cina_assessment_child_seen": "Y",
        "cina_assessment_auth_date": dt.date(2025, 4, 20),
        "cina_assessment_outcome_json": json.dumps(
            {
                "NFA_FLAG": "N",
                "PROV_OF_SERVICES_FLAG": "Y",
                "TOTAL_NO_OF_OUTCOMES": 1,
                "COMMENTS": "free text never carried",
            }
        ),
        "cina_assessment_outcome_nfa": "N",
        "cina_assessment_team": "T1",
        "cina_assessment_worker_id": "SW1",
        "last_updated": STAMP,
        "factors": [{"cinf_assessment_factors_json": '["3B", "4B", "3B"]'}],
        **WHO,
    }
    return {**row, **o}


def s47_row(**o):
    row = {
        "s47e_s47_enquiry_id": "S47E1",
        "s47e_referral_id": "R0000001",
        "s47e_person_id": "C0000001",
        "s47e_s47_start_date": dt.date(2025, 3, 16),
        "s47e_s47_end_date": dt.date(2025, 3, 30),
        "s47e_s47_nfa": "N",
        "s47e_s47_outcome_json": json.dumps({"CP_CONFERENCE_FLAG": "Y"}),
        "last_updated": STAMP,
        "conference": {"icpc_icpc_target_date": dt.date(2025, 4, 4)},
        **WHO,
    }
    return {**row, **o}


def icpc_row(**o):
    row = {
        "icpc_icpc_id": "ICPC1",
        "icpc_icpc_meeting_id": "MTG1",
        "icpc_s47_enquiry_id": "S47E1",
        "icpc_person_id": "C0000001",
        "icpc_cp_plan_id": "CPPL1",
        "icpc_referral_id": "R0000001",
        "icpc_icpc_transfer_in": "N",
        "icpc_icpc_target_date": dt.date(2025, 4, 4),
        "icpc_icpc_date": dt.date(2025, 4, 3),
        "icpc_icpc_outcome_cp_flag": "Y",
        "icpc_icpc_outcome_json": json.dumps({"CP_FLAG": "Y", "TOTAL_NO_OF_OUTCOMES": "1"}),
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def plan_row(**o):
    row = {
        "cinp_cin_plan_id": "CINP1",
        "cinp_referral_id": "R0000001",
        "cinp_person_id": "C0000001",
        "cinp_cin_plan_start_date": dt.date(2025, 4, 25),
        "cinp_cin_plan_end_date": None,
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def test_a_contact_carries_its_source_and_outcome_flags():
    [(t, e)] = contact_events(contact_row(), SRC)
    assert t == "case_management.contact"
    assert e["source"] == "RS_2A"
    assert e["outcome"]["new_referral"] is True and e["outcome"]["advice"] is None
    assert e["contact_time"].tzinfo is not None


def test_an_assessment_carries_its_factors_once_each_and_no_free_text():
    [(t, e)] = assessment_events(assessment_row(), SRC)
    assert t == "case_management.assessment"
    assert e["factors"] == ["AF_3B", "AF_4B"]
    assert e["outcome"]["provision_of_services"] is True
    assert e["outcome"]["total_outcomes"] == 1
    assert "free text never carried" not in repr(e)
    assert e["envelope"]["correlation_id"] == "R0000001"


def test_factors_recorded_as_an_object_are_read_too():
    row = assessment_row(factors=[{"cinf_assessment_factors_json": '{"16A": "Yes", "2B": "No"}'}])
    [(_, e)] = assessment_events(row, SRC)
    assert e["factors"] == ["AF_16A"]


def test_a_s47_enquiry_takes_its_conference_target_date():
    [(t, e)] = s47_events(s47_row(), SRC)
    assert t == "case_management.s47_enquiry"
    assert e["icpc_target_date"] == dt.date(2025, 4, 4)
    assert e["icpc_required"] is True and e["outcome"]["cp_conference"] is True


def test_a_conference_and_a_cin_plan_map():
    [(_, icpc)] = icpc_events(icpc_row(), SRC)
    assert icpc["outcome_cp"] is True and icpc["outcome"]["cp_plan"] is True
    assert icpc["outcome"]["total_outcomes"] == 1
    [(_, plan)] = cin_plan_events(plan_row(), SRC)
    assert plan["start_date"] == dt.date(2025, 4, 25) and plan["end_date"] is None


@pytest.mark.parametrize(
    "build,mapper,overrides,rule,field",
    [
        (
            contact_row,
            contact_events,
            {"cont_contact_source_code": "11"},
            "referral_source.code_list",
            "cont_contact_source_code",
        ),
        (
            contact_row,
            contact_events,
            {"cont_contact_date": None},
            "required.missing",
            "cont_contact_date",
        ),
        (
            assessment_row,
            assessment_events,
            {"factors": [{"cinf_assessment_factors_json": '["25A"]'}]},
            "assessment_factor.code_list",
            "cinf_assessment_factors_json",
        ),
        (
            assessment_row,
            assessment_events,
            {"factors": [{"cinf_assessment_factors_json": '["21", "3B"]'}]},
            "factors.none_exclusive",
            "cinf_assessment_factors_json",
        ),
        (
            assessment_row,
            assessment_events,
            {"cina_assessment_auth_date": dt.date(2025, 1, 1)},
            "dates.order",
            "cina_assessment_auth_date",
        ),
        (
            assessment_row,
            assessment_events,
            {"cina_assessment_child_seen": "maybe"},
            "yes_no.value",
            "cina_assessment_child_seen",
        ),
        (
            assessment_row,
            assessment_events,
            {"cina_referral_id": None},
            "required.missing",
            "cina_referral_id",
        ),
        (
            s47_row,
            s47_events,
            {"s47e_s47_end_date": dt.date(2025, 3, 1)},
            "dates.order",
            "s47e_s47_end_date",
        ),
        (
            s47_row,
            s47_events,
            {"s47e_s47_outcome_json": "{not json"},
            "outcome_json.parse",
            "s47e_s47_outcome_json",
        ),
        (
            icpc_row,
            icpc_events,
            {"icpc_icpc_outcome_cp_flag": "N"},
            "icpc.outcome_consistent",
            "icpc_icpc_outcome_cp_flag",
        ),
        (
            icpc_row,
            icpc_events,
            {"icpc_icpc_outcome_json": '{"TOTAL_NO_OF_OUTCOMES": "many"}'},
            "outcome_json.count",
            "icpc_icpc_outcome_json",
        ),
        (
            plan_row,
            cin_plan_events,
            {"cinp_cin_plan_end_date": dt.date(2025, 1, 1)},
            "dates.order",
            "cinp_cin_plan_end_date",
        ),
    ],
)
def test_a_bad_row_names_the_rule_and_column(build, mapper, overrides, rule, field):
    with pytest.raises(ContractError) as err:
        mapper(build(**overrides), SRC)
    assert (err.value.rule, err.value.field) == (rule, field)
    for value in overrides.values():  # the message names the column, never the value
        if isinstance(value, str) and len(value) > 3 and not value.isupper():
            assert value not in str(err.value)
