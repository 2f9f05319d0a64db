"""Mappings of care leavers' contacts and pathway plan reviews."""

import datetime as dt

import pytest

from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.care_leavers import contact_events, pathway_events
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
STAMP = dt.datetime(2026, 3, 1, 9, 0)
WHO = {"nhs_number": "9990000034", "upn": None}


def leaver_row(**o):
    row = {
        "clea_table_id": "CLEA1",
        "clea_person_id": "C0000003",
        "clea_care_leaver_eligibility": "Former Relevant",
        "clea_care_leaver_in_touch": "YES",
        "clea_care_leaver_latest_contact": dt.date(2026, 2, 20),
        "clea_care_leaver_accommodation": "U",
        "clea_care_leaver_accom_suitable": "1",
        "clea_care_leaver_activity": "F2",
        "clea_care_leaver_personal_advisor": "PA0007",
        "clea_care_leaver_allocated_team": "Leaving Care Team",
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def review_row(**o):
    domains = [
        {
            "ppdo_domain": "ACCOMMODATION",
            "ppdo_status": "MET",
            "ppdo_young_person_rating": 8,
            "ppdo_adviser_rating": 7,
            "last_updated": STAMP,
        },
        {
            "ppdo_domain": "FINANCE",
            "ppdo_status": "PARTLY_MET",
            "ppdo_young_person_rating": None,
            "ppdo_adviser_rating": "5",
            "last_updated": STAMP,
        },
    ]
    row = {
        "ppre_review_id": "PPRE1",
        "ppre_person_id": "C0000003",
        "ppre_review_date": dt.date(2026, 2, 10),
        "ppre_next_review_date": dt.date(2026, 8, 10),
        "ppre_personal_adviser_id": "PA0007",
        "last_updated": STAMP,
        "domains": domains,
        "care_leaver": {"clea_care_leaver_eligibility": "No Current Eligibility"},
        **WHO,
    }
    return {**row, **o}


def test_a_contact_carries_activity_accommodation_and_eligibility():
    [(t, e)] = contact_events(leaver_row(), SRC)
    assert t == "case_management.care_leaver_contact"
    assert (e["in_touch"], e["activity"], e["accommodation"]) == ("YES", "ACT_F2", "U")
    assert e["accommodation_suitable"] is True
    assert e["eligibility"] == "FORMER_RELEVANT"


def test_an_accommodation_code_with_its_digit_is_split():
    row = leaver_row(clea_care_leaver_accommodation="D2", clea_care_leaver_accom_suitable=None)
    [(_, e)] = contact_events(row, SRC)
    assert (e["accommodation"], e["accommodation_suitable"]) == ("D", False)


def test_a_care_leaver_without_a_recorded_contact_publishes_nothing():
    assert contact_events(leaver_row(clea_care_leaver_latest_contact=None), SRC) == []


def test_a_review_carries_both_ratings_of_each_domain():
    [(t, e)] = pathway_events(review_row(), SRC)
    assert t == "case_management.pathway_plan_reviewed"
    assert e["domains"] == [
        {"domain": "ACCOMMODATION", "status": "MET", "young_person_rating": 8, "adviser_rating": 7},
        {
            "domain": "FINANCE",
            "status": "PARTLY_MET",
            "young_person_rating": None,
            "adviser_rating": 5,
        },
    ]
    assert e["eligibility"] == "NONE"


def _domain(**o):
    d = {
        "ppdo_domain": "HEALTH_WELLBEING",
        "ppdo_status": "MET",
        "ppdo_young_person_rating": 6,
        "ppdo_adviser_rating": 7,
        "last_updated": STAMP,
    }
    return {**d, **o}


@pytest.mark.parametrize(
    "build,mapper,overrides,rule,field",
    [
        (
            leaver_row,
            contact_events,
            {"clea_care_leaver_activity": "F9"},
            "care_leaver_activity.code_list",
            "clea_care_leaver_activity",
        ),
        (
            leaver_row,
            contact_events,
            {"clea_care_leaver_in_touch": "MAYBE"},
            "in_touch.code_list",
            "clea_care_leaver_in_touch",
        ),
        (
            leaver_row,
            contact_events,
            {"clea_care_leaver_accommodation": "S"},
            "accommodation_suitable.not_allowed",
            "clea_care_leaver_accom_suitable",
        ),
        (
            leaver_row,
            contact_events,
            {"clea_care_leaver_accom_suitable": "3"},
            "accommodation_suitable.value",
            "clea_care_leaver_accom_suitable",
        ),
        (
            leaver_row,
            contact_events,
            {"clea_care_leaver_activity": "0"},
            "care_leaver.in_touch_activity",
            "clea_care_leaver_activity",
        ),
        (
            review_row,
            pathway_events,
            {"ppre_next_review_date": dt.date(2026, 1, 1)},
            "dates.order",
            "ppre_next_review_date",
        ),
        (
            review_row,
            pathway_events,
            {"domains": [_domain(ppdo_adviser_rating=11)]},
            "rating.range",
            "ppdo_adviser_rating",
        ),
        (
            review_row,
            pathway_events,
            {"domains": [_domain(ppdo_young_person_rating="ten")]},
            "rating.format",
            "ppdo_young_person_rating",
        ),
        (
            review_row,
            pathway_events,
            {"domains": [_domain(), _domain()]},
            "pathway_plan.domain_duplicate",
            "ppdo_domain",
        ),
        (
            review_row,
            pathway_events,
            {"domains": [_domain(ppdo_domain="HOBBIES")]},
            "pathway_domain.code_list",
            "ppdo_domain",
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
