"""Mappings of episodes of care, placements, reviews and missing episodes."""

import datetime as dt

import pytest

from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.looked_after import (
    episode_events,
    missing_events,
    placement_events,
    review_events,
)
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
STAMP = dt.datetime(2025, 9, 1, 9, 0)
WHO = {"nhs_number": "9990000026", "upn": None}
PLACEMENT = {
    "clap_cla_placement_id": "CLAP2",
    "clap_cla_placement_type": "U4",
    "clap_cla_placement_provider": "PR1",
    "clap_cla_placement_urn": None,
    "clap_cla_placement_postcode": "ZZ3 1AB",
    "clap_cla_placement_distance": 4.2,
    "last_updated": STAMP,
}


def episode_row(**o):
    row = {
        "clae_cla_episode_id": "CLAE2",
        "clae_person_id": "C0000002",
        "clae_cla_placement_id": "CLAP2",
        "clae_cla_episode_start_date": dt.date(2025, 5, 1),
        "clae_cla_episode_start_reason": "P",
        "clae_cla_primary_need_code": "N1",
        "clae_cla_episode_ceased_date": None,
        "clae_cla_episode_ceased_reason": None,
        "clae_cla_id": "CLA1",
        "clae_referral_id": "R0000002",
        "last_updated": STAMP,
        "placement": dict(PLACEMENT),
        "legal_statuses": [
            {
                "lega_legal_status": "C1",
                "lega_legal_status_start_date": dt.date(2025, 1, 10),
                "lega_legal_status_end_date": dt.date(2025, 4, 20),
            },
            {
                "lega_legal_status": "C2",
                "lega_legal_status_start_date": dt.date(2025, 4, 20),
                "lega_legal_status_end_date": None,
            },
        ],
        "addresses": [
            {
                "addr_address_type": "HOME",
                "addr_address_postcode": "OL1 2AB",
                "addr_address_start_date": dt.date(2020, 1, 1),
                "addr_address_end_date": None,
            }
        ],
        "period_placements": [
            {
                "clap_cla_placement_id": "CLAP1",
                "clap_cla_placement_end_date": dt.date(2025, 5, 1),
                "clap_cla_placement_change_reason": "CREQB",
            },
            dict(PLACEMENT),
        ],
        **WHO,
    }
    return {**row, **o}


def placement_row(**o):
    row = {
        **PLACEMENT,
        "clap_cla_id": "CLA1",
        "clap_person_id": "C0000002",
        "clap_cla_placement_start_date": dt.date(2025, 5, 1),
        "clap_cla_placement_end_date": None,
        "clap_cla_placement_change_reason": None,
        **WHO,
    }
    return {**row, **o}


def review_row(**o):
    row = {
        "clar_cla_review_id": "CLAR1",
        "clar_cla_id": "CLA1",
        "clar_cla_review_due_date": dt.date(2025, 6, 1),
        "clar_cla_review_date": dt.date(2025, 5, 30),
        "clar_cla_review_cancelled": "N",
        "clar_cla_review_participation": "PN6",
        "last_updated": STAMP,
        "_person_id": "C0000002",
        **WHO,
    }
    return {**row, **o}


def missing_row(**o):
    row = {
        "miss_table_id": "MISS1",
        "miss_person_id": "C0000002",
        "miss_missing_episode_start_date": dt.datetime(2025, 7, 1, 21, 0),
        "miss_missing_episode_type": "M",
        "miss_missing_episode_end_date": dt.datetime(2025, 7, 2, 9, 0),
        "miss_missing_rhi_offered": "Y",
        "miss_missing_rhi_accepted": "N",
        "last_updated": STAMP,
        **WHO,
    }
    return {**row, **o}


def test_an_episode_takes_the_legal_status_in_force_its_placement_and_the_change_reason():
    [(t, e)] = episode_events(episode_row(), SRC)
    assert t == "case_management.cla_episode"
    assert e["legal_status"] == "C2"  # the C1 order ended the day C2 began
    assert (e["placement_type"], e["placement_provider"], e["distance_miles"]) == ("U4", "PR1", 4.2)
    assert e["home_postcode"] == "OL1 2AB"
    assert e["reason_place_change"] == "CREQB"
    assert e["envelope"]["correlation_id"] == "CLA1"


def test_a_change_of_legal_status_only_has_no_place_change_reason():
    [(_, e)] = episode_events(episode_row(clae_cla_episode_start_reason="L"), SRC)
    assert e["reason_place_change"] is None


def test_placements_reviews_and_missing_episodes_map():
    [(_, p)] = placement_events(placement_row(), SRC)
    assert (p["placement_id"], p["period_of_care_id"]) == ("CLAP2", "CLA1")
    [(_, r)] = review_events(review_row(), SRC)
    assert (r["participation"], r["envelope"]["subject"]["la_child_id"]) == ("PN6", "C0000002")
    [(_, m)] = missing_events(missing_row(), SRC)
    assert (m["missing_type"], m["rhi_offered"], m["rhi_accepted"]) == ("M", "Y", "N")


@pytest.mark.parametrize(
    "build,mapper,overrides,rule,field",
    [
        (
            episode_row,
            episode_events,
            {"legal_statuses": []},
            "required.missing",
            "lega_legal_status",
        ),
        (
            episode_row,
            episode_events,
            {"placement": None},
            "required.missing",
            "clae_cla_placement_id",
        ),
        (
            episode_row,
            episode_events,
            {"clae_cla_episode_start_reason": "X"},
            "rne.code_list",
            "clae_cla_episode_start_reason",
        ),
        (
            episode_row,
            episode_events,
            {"clae_cla_primary_need_code": "N9"},
            "category_of_need.code_list",
            "clae_cla_primary_need_code",
        ),
        (
            episode_row,
            episode_events,
            {"clae_cla_episode_ceased_date": dt.date(2025, 9, 1)},
            "required.missing",
            "clae_cla_episode_ceased_reason",
        ),
        (
            episode_row,
            episode_events,
            {
                "clae_cla_episode_ceased_date": dt.date(2025, 9, 1),
                "clae_cla_episode_ceased_reason": "E99",
            },
            "reason_episode_ceased.code_set",
            "clae_cla_episode_ceased_reason",
        ),
        (
            episode_row,
            episode_events,
            {"placement": {**PLACEMENT, "clap_cla_placement_type": "T1"}},
            "placement_provider.not_applicable",
            "clap_cla_placement_provider",
        ),
        (
            placement_row,
            placement_events,
            {"clap_cla_placement_end_date": dt.date(2025, 1, 1)},
            "dates.order",
            "clap_cla_placement_end_date",
        ),
        (
            placement_row,
            placement_events,
            {"clap_cla_placement_type": "Q7"},
            "placement_type.code_set",
            "clap_cla_placement_type",
        ),
        (
            placement_row,
            placement_events,
            {"clap_cla_placement_distance": 1200.0},
            "distance_miles.range",
            "clap_cla_placement_distance",
        ),
        (
            review_row,
            review_events,
            {"clar_cla_review_cancelled": "Y"},
            "cla_review.cancelled_with_participation",
            "clar_cla_review_participation",
        ),
        (review_row, review_events, {"_person_id": None}, "required.missing", "clar_cla_id"),
        (
            missing_row,
            missing_events,
            {"miss_missing_episode_end_date": dt.datetime(2025, 6, 30, 9, 0)},
            "dates.order",
            "miss_missing_episode_end_date",
        ),
        (
            missing_row,
            missing_events,
            {"miss_missing_rhi_offered": "N", "miss_missing_rhi_accepted": "Y"},
            "return_interview.accepted_not_offered",
            "miss_missing_rhi_accepted",
        ),
        (
            missing_row,
            missing_events,
            {"miss_missing_episode_type": "Z"},
            "missing_type.code_list",
            "miss_missing_episode_type",
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
