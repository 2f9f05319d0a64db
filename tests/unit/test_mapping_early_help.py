"""Mappings of early help episodes, outcomes and sharing preferences."""

import datetime as dt

import pytest

from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.consent import preference_events
from connectors.case_management.mappings.early_help import (
    episode_events,
    outcome_events,
    reason_code,
)
from schemas.errors import ContractError

SRC = Source("ehm-test", "LIQUIDLOGIC_EHM", "999")
STAMP = dt.datetime(2025, 9, 1, 9, 0)
WHO = {"nhs_number": "9990000042", "upn": None}


def episode_row(**o):
    row = {
        "earl_episode_id": "EH0000001",
        "earl_person_id": "C0000004",
        "earl_episode_start_date": dt.date(2025, 1, 6),
        "earl_episode_end_date": None,
        "earl_episode_reason": "Parenting support",
        "earl_episode_end_reason": None,
        "earl_episode_organisation": "Family Hub North",
        "earl_episode_worker_id": "EHW00001",
        "earl_family_needs_json": '["FAMILY_RELATIONSHIPS", "EDUCATION", "HEALTH"]',
        "last_updated": STAMP,
        "family": {"fami_family_id": "FAM0000001"},
        **WHO,
    }
    return {**row, **o}


def outcome_row(**o):
    row = {
        "ehou_outcome_id": "EHOU1",
        "ehou_family_id": "FAM0000001",
        "ehou_person_id": "C0000004",
        "ehou_episode_id": "EH0000001",
        "ehou_headline": "EDUCATION",
        "ehou_sub_outcome": "EDUC_2",
        "ehou_evidence_source": "ADMINISTRATIVE_DATA",
        "ehou_achieved_date": dt.date(2025, 6, 1),
        "ehou_sustained_until": dt.date(2025, 12, 1),
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def preference_row(**o):
    row = {
        "shpr_preference_id": "SHPR1",
        "shpr_person_id": "C0000003",
        "shpr_expressed_by": "CHILD",
        "shpr_competence_assessed": "GILLICK_COMPETENT",
        "shpr_purpose": "strategic_reporting",
        "shpr_recipient": None,
        "shpr_data_category": "voice",
        "shpr_decision": "OBJECT",
        "shpr_effective_from": dt.datetime(2025, 6, 3, 15, 0),
        "shpr_effective_to": None,
        "shpr_withdrawn_at": None,
        "shpr_override_reason": None,
        "shpr_override_legal_reference": None,
        "shpr_override_by_role": None,
        "shpr_override_at": None,
        "shpr_national_data_opt_out": None,
        "last_updated": STAMP,
        "_dob": dt.date(2011, 6, 4),
        **WHO,
    }
    return {**row, **o}


def test_an_open_episode_is_started_with_its_family_and_needs():
    [(t, e)] = episode_events(episode_row(), SRC)
    assert t == "case_management.early_help_episode_started"
    assert e["envelope"]["subject"]["family_id"] == "FAM0000001"
    assert e["family_needs"] == ["FAMILY_RELATIONSHIPS", "EDUCATION", "HEALTH"]
    assert e["reason_code"] == "PARENTING_SUPPORT"


def test_an_ended_episode_maps_local_wording_of_its_end_reason():
    events = episode_events(
        episode_row(
            earl_episode_end_date=dt.date(2025, 7, 1), earl_episode_end_reason="Stepped up to CSC"
        ),
        SRC,
    )
    assert [t for t, _ in events][1] == "case_management.early_help_episode_ended"
    assert events[1][1]["end_reason"] == "STEP_UP_CSC"


def test_local_categories_become_codes():
    assert reason_code("Child's emotional wellbeing") == "CHILD_S_EMOTIONAL_WELLBEING"
    assert reason_code("  ") is None


def test_an_outcome_and_a_preference_map():
    [(_, o)] = outcome_events(outcome_row(), SRC)
    assert (o["family_id"], o["envelope"]["subject"]["family_id"]) == ("FAM0000001",) * 2
    [(t, p)] = preference_events(preference_row(), SRC)
    assert t == "consent.sharing_preference_recorded"
    assert p["child_age_years"] == 13  # the day before the 14th birthday
    assert (p["withdrawn"], p["override"]) == (False, None)


def test_an_overridden_objection_carries_the_override():
    row = preference_row(
        shpr_override_reason="LEGAL_DUTY",
        shpr_override_legal_reference="COURT_ORDER_ZZ1234",
        shpr_override_by_role="team_manager",
        shpr_override_at=dt.datetime(2025, 6, 10, 9, 0),
    )
    [(_, p)] = preference_events(row, SRC)
    assert p["override"]["reason_code"] == "LEGAL_DUTY"


@pytest.mark.parametrize(
    "build,mapper,overrides,rule,field",
    [
        (
            episode_row,
            episode_events,
            {
                "earl_episode_end_date": dt.date(2025, 7, 1),
                "earl_episode_end_reason": "Closed - see notes",
            },
            "early_help_end_reason.code_list",
            "earl_episode_end_reason",
        ),
        (
            episode_row,
            episode_events,
            {"earl_episode_end_date": dt.date(2025, 7, 1)},
            "required.missing",
            "earl_episode_end_reason",
        ),
        (
            episode_row,
            episode_events,
            {"earl_family_needs_json": '["WELLBEING"]'},
            "supporting_families_headline.code_list",
            "earl_family_needs_json",
        ),
        (
            episode_row,
            episode_events,
            {
                "earl_episode_end_date": dt.date(2024, 1, 1),
                "earl_episode_end_reason": "OUTCOMES_MET",
            },
            "dates.order",
            "earl_episode_end_date",
        ),
        (
            outcome_row,
            outcome_events,
            {"ehou_sustained_until": dt.date(2025, 1, 1)},
            "dates.order",
            "ehou_sustained_until",
        ),
        (
            outcome_row,
            outcome_events,
            {"ehou_evidence_source": "GOSSIP"},
            "evidence_source.code_list",
            "ehou_evidence_source",
        ),
        (
            preference_row,
            preference_events,
            {"shpr_withdrawn_at": dt.datetime(2025, 1, 1)},
            "consent.withdrawn_at",
            "shpr_withdrawn_at",
        ),
        (
            preference_row,
            preference_events,
            {
                "shpr_decision": "ALLOW",
                "shpr_override_reason": "SIGNIFICANT_HARM",
                "shpr_override_by_role": "team_manager",
                "shpr_override_at": STAMP,
            },
            "consent.override_decision",
            "shpr_override_reason",
        ),
        (
            preference_row,
            preference_events,
            {
                "shpr_override_reason": "LEGAL_DUTY",
                "shpr_override_by_role": "team_manager",
                "shpr_override_at": STAMP,
            },
            "consent.override_reason",
            "shpr_override_legal_reference",
        ),
        (
            preference_row,
            preference_events,
            {"shpr_purpose": "all of it"},
            "consent.scope_code",
            "shpr_purpose",
        ),
        (
            preference_row,
            preference_events,
            {"shpr_expressed_by": "NEIGHBOUR"},
            "preference_holder.code_list",
            "shpr_expressed_by",
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
