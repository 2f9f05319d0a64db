import datetime as dt
import uuid

import pytest

from connectors.case_management.mappings.base import Source, make_envelope, yn
from connectors.common.events import EVENT_ID_NAMESPACE, envelope, event_id
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


@pytest.mark.parametrize("variant", ["", "closed"])
def test_the_mapping_envelope_is_the_common_envelope(variant):
    row = {"last_updated": dt.datetime(2025, 3, 1, 9), "_version": dt.datetime(2025, 3, 2, 10)}
    src = Source("lcs-main", "LIQUIDLOGIC_LCS", "999")
    who = {"la_child_id": "C0000001", "nhs_number": None, "upn": None, "family_id": None}
    common = envelope(
        event_type="case_management.referral",
        schema_version=1,
        source_system=src.system,
        source_instance=src.instance,
        la_code=src.la_code,
        entity="ssd_cin_episodes",
        key="R1",
        version="2025-03-02T10:00:00" + (f"#{variant}" if variant else ""),
        event_time=dt.date(2025, 3, 1),
        recorded_time=row["_version"],
        subject=who,
        correlation_id="R1",
    )
    made = make_envelope(
        "case_management.referral",
        row,
        src,
        entity="ssd_cin_episodes",
        key="R1",
        event_time=dt.date(2025, 3, 1),
        subject_record=who,
        correlation_id="R1",
        variant=variant,
    )
    assert made == common
    assert list(made) == list(common)


@pytest.mark.parametrize(
    "value,expected",
    [("Y", True), (" yes ", True), ("true", True), (1, True), ("N", False), (0, False)]
    + [("no", False), (False, False), (None, None), ("", None)],
)
def test_yes_no_values(value, expected):
    assert yn(value, "col") is expected


@pytest.mark.parametrize("value", ["X", "maybe", 2, "YN"])
def test_a_yes_no_column_holding_anything_else_names_its_column(value):
    with pytest.raises(ContractError) as err:
        yn(value, "col")
    assert (err.value.rule, err.value.field) == ("yes_no.value", "col")
