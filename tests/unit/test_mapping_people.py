"""Mappings of people and identifiers: ssd_person and ssd_linked_identifiers."""

import datetime as dt

import pytest

from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.people import identifier_events, person_events
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
NHS = "9990000018"
BAD_NHS = "9990000019"


def person_row(**overrides):
    row = {
        "pers_person_id": "C0000001",
        "pers_forename": "Maisie",
        "pers_surname": "Examplechild",
        "pers_sex": "F",
        "pers_gender": "02",
        "pers_ethnicity": "WBRI",
        "pers_dob": dt.date(2012, 6, 15),
        "pers_expected_dob": None,
        "pers_death_date": None,
        "pers_common_child_id": NHS,
        "pers_upn_unknown": None,
        "pers_send_flag": "N",
        "pers_is_mother": None,
        "pers_nationality": None,
        "last_updated": dt.datetime(2025, 3, 13, 11, 5),
        "nhs_number": NHS,
        "upn": None,
        "disabilities": [{"disa_disability_code": "AUT"}, {"disa_disability_code": "aut"}],
        "home_address": {"addr_address_postcode": "ZZ1 4AB"},
    }
    row.update(overrides)
    return row


def link_row(**overrides):
    row = {
        "link_table_id": 7,
        "link_person_id": "C0000001",
        "link_identifier_type": "NHS Number",
        "link_identifier_value": "999 000 0018",
        "link_valid_from_date": dt.date(2012, 6, 15),
        "link_valid_to_date": None,
        "last_updated": dt.datetime(2025, 3, 13, 11, 20),
        "nhs_number": NHS,
        "upn": None,
    }
    row.update(overrides)
    return row


def test_a_person_carries_codes_disabilities_once_and_the_current_postcode():
    [(event_type, e)] = person_events(person_row(), SRC)
    assert event_type == "case_management.person_registered"
    assert e["sex"] == "F" and e["ethnicity"] == "WBRI"
    assert e["disabilities"] == ["AUT"]
    assert e["postcode"] == "ZZ1 4AB"
    assert e["envelope"]["subject"] == {
        "la_child_id": "C0000001",
        "nhs_number": NHS,
        "upn": None,
        "family_id": None,
    }
    assert e["envelope"]["source_record"]["entity"] == "ssd_person"


def test_a_missing_sex_is_published_as_unknown():
    [(_, e)] = person_events(person_row(pers_sex=None), SRC)
    assert e["sex"] == "U"


def test_the_version_counts_a_later_change_to_a_versioned_lookup():
    later = dt.datetime(2025, 6, 1, 9, 0)
    [(_, a)] = person_events(person_row(), SRC)
    [(_, b)] = person_events(person_row(_version=later), SRC)
    assert a["envelope"]["event_id"] != b["envelope"]["event_id"]
    assert b["envelope"]["source_record"]["version"] == later.isoformat()


@pytest.mark.parametrize(
    "overrides,rule,field",
    [
        ({"pers_ethnicity": "XXXX"}, "ethnicity.code_list", "pers_ethnicity"),
        ({"pers_sex": "Q"}, "sex.code_list", "pers_sex"),
        (
            {"disabilities": [{"disa_disability_code": "WINGS"}]},
            "disability.code_list",
            "disa_disability_code",
        ),
        (
            {"disabilities": [{"disa_disability_code": "NONE"}, {"disa_disability_code": "AUT"}]},
            "disabilities.none_exclusive",
            "disa_disability_code",
        ),
        ({"nhs_number": BAD_NHS}, "nhs_number.check", "nhs_number"),
        ({"pers_dob": None}, "required.missing", "pers_dob"),
        ({"pers_death_date": dt.date(2010, 1, 1)}, "dates.order", "pers_death_date"),
        (
            {"upn": "W820200124001", "pers_upn_unknown": "UN1"},
            "upn_unknown.with_upn",
            "pers_upn_unknown",
        ),
        ({"pers_gender": "05"}, "gender.code", "pers_gender"),
        ({"pers_person_id": "C-0000001"}, "la_child_id.format", "pers_person_id"),
    ],
)
def test_a_bad_person_names_the_rule_and_column_never_the_value(overrides, rule, field):
    with pytest.raises(ContractError) as err:
        person_events(person_row(**overrides), SRC)
    assert (err.value.rule, err.value.field) == (rule, field)
    for value in overrides.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(err.value)


def test_an_identifier_is_normalised_and_its_check_reported():
    [(event_type, e)] = identifier_events(link_row(), SRC)
    assert event_type == "case_management.identifier_linked"
    assert (e["identifier_type"], e["value"], e["check_passed"]) == ("NHS_NUMBER", NHS, True)
    [(_, upn)] = identifier_events(
        link_row(link_identifier_type="Unique Pupil Number", link_identifier_value="w820200124001"),
        SRC,
    )
    assert (upn["identifier_type"], upn["value"], upn["check_passed"]) == (
        "UPN",
        "W820200124001",
        True,
    )


def test_a_linked_identifier_that_fails_its_check_is_published_as_failing():
    [(_, e)] = identifier_events(link_row(link_identifier_value=BAD_NHS), SRC)
    assert e["check_passed"] is False


@pytest.mark.parametrize(
    "overrides,rule,field",
    [
        (
            {"link_identifier_type": "Library card"},
            "identifier_type.code_list",
            "link_identifier_type",
        ),
        ({"link_identifier_value": None}, "required.missing", "link_identifier_value"),
        ({"link_valid_to_date": dt.date(2000, 1, 1)}, "dates.order", "link_valid_to_date"),
        ({"nhs_number": BAD_NHS}, "nhs_number.check", "nhs_number"),
    ],
)
def test_a_bad_identifier_row_names_the_rule_and_column(overrides, rule, field):
    with pytest.raises(ContractError) as err:
        identifier_events(link_row(**overrides), SRC)
    assert (err.value.rule, err.value.field) == (rule, field)
    assert BAD_NHS not in str(err.value)
