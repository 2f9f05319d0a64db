import datetime as dt
import uuid

import pytest

from connectors.common.events import EVENT_ID_NAMESPACE, event_id
from schemas.errors import ContractError
from tests.examples import referral, referral_row


def test_referral_maps_codes_and_identifiers():
    event = referral()
    assert event["referral_source"] == "RS_2A"
    assert event["primary_need"] == "N1"
    assert event["outcome"]["single_assessment"] is True
    assert event["outcome"]["cp_conference"] is None
    assert event["envelope"]["subject"]["la_child_id"] == "C0000001"
    assert event["envelope"]["source_record"]["entity"] == "ssd_cin_episodes"


def test_event_id_is_deterministic_per_record_version():
    a, b = referral(), referral()
    assert a["envelope"]["event_id"] == b["envelope"]["event_id"]
    later = referral(last_updated=dt.datetime(2025, 4, 1))
    assert later["envelope"]["event_id"] != a["envelope"]["event_id"]
    assert event_id("x", "t", "k", "v") != event_id("y", "t", "k", "v")


@pytest.mark.parametrize(
    "parts",
    [
        ("lcs-main", "ssd_person", "C0000001", "2025-03-01T09:00:00"),
        ("hv", "Observation", "obs-1", "2024-01-01T00:00:00+00:00"),
        ("x", "é", "ü", ""),
    ],
)
def test_event_id_is_the_standard_uuid5_of_the_record_version(parts):
    expected = uuid.uuid5(EVENT_ID_NAMESPACE, "|".join(parts))
    assert event_id(*parts) == str(expected)
    assert uuid.UUID(event_id(*parts)).version == 5


@pytest.mark.parametrize(
    "overrides,rule,field",
    [
        (
            {"cine_referral_source_code": "ZZ"},
            "referral_source.code_list",
            "cine_referral_source_code",
        ),
        ({"cine_referral_source_code": None}, "required.missing", "cine_referral_source_code"),
        (
            {"cine_cin_primary_need_code": "N12"},
            "primary_need.code_list",
            "cine_cin_primary_need_code",
        ),
        ({"cine_close_reason": "RC0"}, "closure_reason.code_list", "cine_close_reason"),
        ({"nhs_number": "9990000019"}, "nhs_number.check", "nhs_number"),
        ({"upn": "A820200124001"}, "upn.check", "upn"),
        ({"cine_referral_date": None}, "required.missing", "cine_referral_date"),
        ({"cine_referral_date": "2025-02-30"}, "date.format", "cine_referral_date"),
        ({"cine_close_date": dt.date(2025, 1, 1)}, "dates.order", "cine_close_date"),
        ({"cine_referral_nfa": "maybe"}, "yes_no.value", "cine_referral_nfa"),
        (
            {"cine_referral_outcome_json": "{not json"},
            "outcome_json.parse",
            "cine_referral_outcome_json",
        ),
    ],
)
def test_bad_row_names_rule_and_field_but_not_value(overrides, rule, field):
    with pytest.raises(ContractError) as err:
        referral(**overrides)
    assert err.value.rule == rule
    assert err.value.field == field
    for value in overrides.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in err.value.reason


def test_row_is_valid_without_identifiers_beyond_la_id():
    event = referral(nhs_number=None, upn=None)
    assert event["envelope"]["subject"]["nhs_number"] is None


def test_referral_row_fixture_is_synthetic():
    assert referral_row()["nhs_number"].startswith("999")
