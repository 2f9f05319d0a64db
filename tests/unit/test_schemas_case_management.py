"""The case management event schemas, their examples, dated code sets and validation rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from schemas.catalogue import default_catalogue
from schemas.codec import Codec
from schemas.codesets import load, names
from schemas.errors import ContractError
from schemas.examples.case_management import EXAMPLES, example
from schemas.share import share_event_type
from schemas.validation import DOMAINS, VALIDATORS, validate
from schemas.validation.case_management import RULES
from streams.gatekeeper.sharing import shared_event
from streams.policy_client import Decision
from streams.pseudonyms import Pseudonymiser

DOMAIN_PREFIX = "case_management."
EVENT_TYPES = sorted(t for t in default_catalogue().event_types() if t.startswith(DOMAIN_PREFIX))
DATE_LOGICAL = {"date", "timestamp-millis"}
POSTCODES = {"postcode", "placement_postcode", "home_postcode"}


def _normalise(value: Any) -> Any:
    """Aware datetimes in UTC at millisecond precision, recursively (what Avro keeps)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


# --------------------------------------------------------------------------- coverage


def test_the_domain_has_its_event_types():
    assert len(EVENT_TYPES) >= 20
    assert "case_management.referral" in EVENT_TYPES


def test_every_case_management_event_type_has_an_example():
    assert set(EXAMPLES) == set(EVENT_TYPES)


def test_every_case_management_event_type_has_rules():
    assert set(RULES) == set(EVENT_TYPES)
    assert "case_management" in DOMAINS and "case_management" in VALIDATORS


def test_event_schemas_follow_the_conventions():
    for event_type in EVENT_TYPES:
        schema = default_catalogue().latest(event_type).schema
        assert schema["name"].startswith("chorus.case_management."), event_type
        assert schema["fields"][0]["name"] == "envelope", event_type
        assert schema["schema_version"] == 1
        assert schema["doc"]


def _enums(node: Any, found: list[dict]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "enum" and node["name"].startswith("chorus.case_management."):
            found.append(node)
        for v in node.values():
            _enums(v, found)
    elif isinstance(node, list):
        for v in node:
            _enums(v, found)


def test_every_enum_has_a_doc_naming_each_symbol():
    found: list[dict] = []
    for event_type in EVENT_TYPES:
        _enums(default_catalogue().latest(event_type).schema, found)
    assert found
    for enum in found:
        assert enum.get("doc"), enum["name"]
        for symbol in enum["symbols"]:
            assert symbol in enum["doc"], f"{enum['name']} doc does not name {symbol}"


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_round_trips_through_the_codec(event_type):
    codec = Codec()
    record = example(event_type)
    schema, back = codec.decode(codec.encode(event_type, record))
    assert schema.event_type == event_type
    assert _normalise(back) == _normalise(record)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_passes_validation(event_type):
    validate(event_type, example(event_type))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_decoded_example_passes_validation(event_type):
    codec = Codec()
    _, back = codec.decode(codec.encode(event_type, example(event_type)))
    validate(event_type, back)


def test_examples_use_synthetic_identifiers_only():
    for event_type, record in EXAMPLES.items():
        nhs = record["envelope"]["subject"]["nhs_number"]
        assert nhs is None or nhs.startswith("999"), event_type
        assert record["envelope"]["la_code"] == "999"


# --------------------------------------------------------------------------- shared form


def _fields(event_type: str) -> list[dict]:
    return default_catalogue().latest(event_type).schema["fields"]


def _is_date(field: dict) -> bool:
    branches = field["type"] if isinstance(field["type"], list) else [field["type"]]
    return any(isinstance(b, dict) and b.get("logicalType") in DATE_LOGICAL for b in branches)


def _decision(transforms: dict[str, str]) -> Decision:
    return Decision(
        allow=True,
        reasons=("test",),
        transforms=transforms,
        lawful_basis="public task",
        obligations=frozenset({"pseudonymise_subject"}),
        agreement="test-isa",
        revision="r-test",
    )


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_shared_schema_exists(event_type):
    shared = default_catalogue().latest(share_event_type(event_type))
    assert shared.schema["fields"][0]["name"] == "share"
    assert {f["name"] for f in shared.schema["fields"][1:]} == {
        f["name"] for f in _fields(event_type)[1:]
    }


@pytest.mark.parametrize("generalise", [False, True], ids=["keep", "generalise"])
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_shared_form_encodes(event_type, generalise):
    transforms: dict[str, str] = {}
    for f in _fields(event_type)[1:]:
        action = "keep"
        if generalise and _is_date(f):
            action = "month"
        elif generalise and f["name"] in POSTCODES:
            action = "district"
        transforms[f["name"]] = action
    shared, _, withheld = shared_event(
        example(event_type),
        _decision(transforms),
        "test-recipient",
        "strategic_reporting",
        Pseudonymiser(b"k" * 32),
    )
    assert withheld == []
    codec = Codec()
    schema, back = codec.decode(codec.encode(share_event_type(event_type), shared))
    assert schema.event_type == share_event_type(event_type)
    assert back == _normalise(shared)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_shared_form_encodes_with_everything_withheld(event_type):
    shared, _, withheld = shared_event(
        example(event_type), _decision({}), "r", "strategic_reporting", Pseudonymiser(b"k" * 32)
    )
    assert withheld
    Codec().encode(share_event_type(event_type), shared)


# --------------------------------------------------------------------------- code sets


def test_code_sets_load():
    assert {"placement_type", "reason_episode_ceased"} <= set(names())
    for name in ("placement_type", "reason_episode_ceased"):
        assert load(name).entries


def test_placement_type_is_dated():
    place = load("placement_type")
    assert place.is_valid("H5", dt.date(2023, 10, 27))
    assert not place.is_valid("H5", dt.date(2023, 10, 28))
    assert not place.is_valid("K3", dt.date(2023, 10, 27))
    assert place.is_valid("K3", dt.date(2023, 10, 28))
    assert place.is_valid("Z1", dt.date(2025, 3, 31)) and not place.is_valid(
        "Z1", dt.date(2025, 4, 1)
    )
    assert place.is_valid("Z12", dt.date(2025, 4, 1)) and not place.is_valid(
        "Z12", dt.date(2025, 3, 31)
    )
    assert not place.is_valid("Q9", dt.date(2025, 1, 1))
    on = dt.date(2025, 6, 1)
    codes = place.codes(on)
    assert {"K3", "U1", "U6", "T0", "T4", "Z11", "Z14"} <= codes
    assert not {"H5", "P2", "Z1"} & codes
    assert place.is_valid("U4", dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC))


def test_reason_episode_ceased_is_dated():
    rec = load("reason_episode_ceased")
    assert rec.is_valid("E45", dt.date(2018, 4, 1)) and not rec.is_valid(
        "E45", dt.date(2018, 3, 31)
    )
    assert rec.is_valid("E43", dt.date(2018, 3, 31)) and not rec.is_valid(
        "E43", dt.date(2018, 4, 1)
    )
    assert {"X1", "E4A", "E17", "E48"} <= rec.codes(dt.date(2025, 1, 1))


def test_code_set_names_are_checked():
    with pytest.raises(ValueError):
        load("../placement_type")
    with pytest.raises(KeyError):
        load("no_such_set")


# --------------------------------------------------------------------------- rules


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set a dotted path (``domains.1.adviser_rating``) in a record."""

    def mutate(record: dict) -> None:
        *parents, last = path.split(".")
        node: Any = record
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _all(*mutations: Callable[[dict], None]) -> Callable[[dict], None]:
    def mutate(record: dict) -> None:
        for m in mutations:
            m(record)

    return mutate


D = dt.date
CM = DOMAIN_PREFIX
BROKEN = [
    # (event type, mutation, rule, field, the bad value as it could appear in a message)
    (
        "pathway_plan_reviewed",
        _set("domains.1.adviser_rating", 11),
        "rating.range",
        "domains[1].adviser_rating",
        "11",
    ),
    (
        "pathway_plan_reviewed",
        _set("domains.0.young_person_rating", -3),
        "rating.range",
        "domains[0].young_person_rating",
        "-3",
    ),
    (
        "pathway_plan_reviewed",
        _set("domains.2.domain", "ACCOMMODATION"),
        "pathway_plan.domain_duplicate",
        "domains[2].domain",
        "ACCOMMODATION",
    ),
    ("cin_plan", _set("end_date", D(2025, 4, 22)), "dates.order", "end_date", "2025-04-22"),
    ("cla_placement", _set("end_date", D(2024, 10, 31)), "dates.order", "end_date", "2024-10-31"),
    ("cp_plan_ended", _set("end_date", D(2025, 4, 30)), "dates.order", "end_date", "2025-04-30"),
    (
        "missing_episode",
        _set("end_time", dt.datetime(2025, 2, 14, 21, 29, tzinfo=dt.UTC)),
        "dates.order",
        "end_time",
        "21:29",
    ),
    (
        "assessment",
        _set("authorised_date", D(2025, 3, 16)),
        "dates.order",
        "authorised_date",
        "2025-03-16",
    ),
    (
        "early_help_outcome_evidenced",
        _set("sustained_until", D(2025, 4, 3)),
        "dates.order",
        "sustained_until",
        "2025-04-03",
    ),
    ("referral", _set("close_date", D(2025, 3, 13)), "dates.order", "close_date", "2025-03-13"),
    (
        "cla_placement",
        _set("placement_type", "Q9"),
        "placement_type.code_set",
        "placement_type",
        "Q9",
    ),
    (
        "cla_episode",
        _set("placement_type", "H5"),
        "placement_type.code_set_date",
        "placement_type",
        "H5",
    ),
    (
        "cla_episode",
        _all(_set("start_date", D(2023, 10, 20)), _set("placement_type", "K3")),
        "placement_type.code_set_date",
        "placement_type",
        "K3",
    ),
    (
        "cla_episode",
        _set("reason_episode_ceased", "E99"),
        "reason_episode_ceased.code_set",
        "reason_episode_ceased",
        "E99",
    ),
    (
        "cla_episode",
        _all(
            _set("start_date", D(2017, 1, 9)),
            _set("end_date", D(2017, 6, 1)),
            _set("reason_episode_ceased", "E45"),
        ),
        "reason_episode_ceased.code_set_date",
        "reason_episode_ceased",
        "E45",
    ),
    (
        "cla_episode",
        _set("reason_episode_ceased", None),
        "required.missing",
        "reason_episode_ceased",
        "X1",
    ),
    ("cla_episode", _set("end_date", None), "required.missing", "end_date", "X1"),
    (
        "cla_episode",
        _set("category_of_need", "N9"),
        "category_of_need.code_list",
        "category_of_need",
        "N9",
    ),
    (
        "cla_episode",
        _set("placement_type", "T1"),
        "placement_provider.not_applicable",
        "placement_provider",
        "PR1",
    ),
    (
        "cla_placement",
        _set("distance_miles", 1200.5),
        "distance_miles.range",
        "distance_miles",
        "1200.5",
    ),
    (
        "person_registered",
        _set("envelope.subject.nhs_number", "9990000019"),
        "nhs_number.check",
        "envelope.subject.nhs_number",
        "9990000019",
    ),
    (
        "cla_review",
        _set("envelope.subject.nhs_number", "999000001"),
        "nhs_number.check",
        "envelope.subject.nhs_number",
        "999000001",
    ),
    (
        "person_registered",
        _set("envelope.subject.upn", "A999200116007"),
        "upn.check",
        "envelope.subject.upn",
        "A999200116007",
    ),
    (
        "contact",
        _set("envelope.subject.la_child_id", "C-0000001"),
        "la_child_id.format",
        "envelope.subject.la_child_id",
        "C-0000001",
    ),
    (
        "contact",
        _set("envelope.event_type", "case_management.referral"),
        "envelope.event_type",
        "envelope.event_type",
        "case_management.referral",
    ),
    (
        "person_registered",
        _all(_set("dob", None), _set("expected_dob", None)),
        "required.missing",
        "dob",
        "2012-06-15",
    ),
    (
        "person_registered",
        _all(_set("dob", None), _set("expected_dob", D(2025, 8, 15)), _set("disabilities", [])),
        "sex.unborn",
        "sex",
        "F",
    ),
    (
        "person_registered",
        _set("death_date", D(2010, 1, 1)),
        "dates.order",
        "death_date",
        "2010-01-01",
    ),
    ("person_registered", _set("gender", "05"), "gender.code", "gender", "05"),
    (
        "person_registered",
        _set("disabilities", ["NONE", "HEAR"]),
        "disabilities.none_exclusive",
        "disabilities",
        "HEAR",
    ),
    (
        "person_registered",
        _set("disabilities", ["VIS", "VIS"]),
        "array.duplicate",
        "disabilities",
        "VIS",
    ),
    ("person_registered", _set("upn_unknown", "UN3"), "upn_unknown.with_upn", "upn_unknown", "UN3"),
    (
        "identifier_linked",
        _set("value", "9990000019"),
        "identifier.check_passed",
        "check_passed",
        "9990000019",
    ),
    (
        "identifier_linked",
        _set("check_passed", None),
        "identifier.check_passed",
        "check_passed",
        "9990000018",
    ),
    ("identifier_linked", _set("valid_to", D(2025, 3, 1)), "dates.order", "valid_to", "2025-03-01"),
    (
        "assessment",
        _set("factors", ["AF_21", "AF_3A"]),
        "factors.none_exclusive",
        "factors",
        "AF_3A",
    ),
    (
        "assessment",
        _set("outcome.total_outcomes", -1),
        "count.range",
        "outcome.total_outcomes",
        "-1",
    ),
    ("s47_enquiry", _set("icpc_required", False), "s47.icpc_consistent", "icpc_required", "False"),
    (
        "initial_cp_conference",
        _set("outcome_cp", False),
        "icpc.outcome_consistent",
        "outcome_cp",
        "False",
    ),
    (
        "cp_plan_started",
        _set("number_previous_cpp", -2),
        "count.range",
        "number_previous_cpp",
        "-2",
    ),
    (
        "cla_review",
        _set("cancelled", True),
        "cla_review.cancelled_with_participation",
        "participation",
        "PN1",
    ),
    (
        "missing_episode",
        _set("rhi_offered", "N"),
        "return_interview.accepted_not_offered",
        "rhi_accepted",
        " is N",
    ),
    (
        "care_leaver_contact",
        _set("activity", "ACT_0"),
        "care_leaver.in_touch_activity",
        "activity",
        "ACT_0",
    ),
    (
        "care_leaver_contact",
        _set("in_touch", "DIED"),
        "care_leaver.not_applicable",
        "activity",
        "ACT_F5",
    ),
    (
        "care_leaver_contact",
        _set("accommodation", "X"),
        "accommodation_suitable.not_allowed",
        "accommodation_suitable",
        "True",
    ),
    (
        "care_leaver_contact",
        _set("accommodation", None),
        "accommodation_suitable.without_accommodation",
        "accommodation_suitable",
        "True",
    ),
    (
        "early_help_episode_started",
        _set("family_needs", ["HEALTH", "HEALTH"]),
        "array.duplicate",
        "family_needs",
        "HEALTH",
    ),
    (
        "early_help_episode_ended",
        _set("end_date", D(2025, 1, 5)),
        "dates.order",
        "end_date",
        "2025-01-05",
    ),
]


@pytest.mark.parametrize(
    "event,mutate,rule,field,bad",
    BROKEN,
    ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(BROKEN)],
)
def test_broken_record_raises_rule_and_field_without_the_value(event, mutate, rule, field, bad):
    record = example(CM + event)
    mutate(record)
    with pytest.raises(ContractError) as err:
        validate(CM + event, record)
    assert (err.value.rule, err.value.field) == (rule, field)
    assert bad not in str(err.value)
    assert bad not in err.value.reason


def test_each_broken_value_still_matches_its_avro_schema():
    """The rules above are ones Avro cannot express: every broken record still encodes."""
    codec = Codec()
    for event, mutate, *_ in BROKEN:
        record = example(CM + event)
        mutate(record)
        codec.encode(CM + event, record)


GOOD = [
    ("cla_episode", _all(_set("start_date", D(2023, 10, 27)), _set("placement_type", "H5"))),
    ("cla_episode", _all(_set("start_date", D(2023, 10, 28)), _set("placement_type", "K3"))),
    ("cla_placement", _all(_set("placement_type", "T1"), _set("placement_provider", None))),
    (
        "cla_placement",
        _all(
            _set("start_date", D(2025, 4, 1)),
            _set("placement_type", "Z12"),
            _set("placement_provider", None),
        ),
    ),
    (
        "cla_episode",
        _all(
            _set("start_date", D(2017, 1, 9)),
            _set("end_date", D(2017, 6, 1)),
            _set("reason_episode_ceased", "E43"),
        ),
    ),
    (
        "pathway_plan_reviewed",
        _all(_set("domains.0.young_person_rating", 0), _set("domains.0.adviser_rating", 10)),
    ),
    (
        "person_registered",
        _all(
            _set("dob", None),
            _set("expected_dob", D(2025, 8, 15)),
            _set("sex", "U"),
            _set("disabilities", []),
            _set("envelope.subject.upn", None),
            _set("upn_unknown", "UN1"),
        ),
    ),
    ("person_registered", _set("gender", "12")),
    ("identifier_linked", _all(_set("value", "9990000019"), _set("check_passed", False))),
    (
        "identifier_linked",
        _all(
            _set("identifier_type", "CASE_NUMBER"),
            _set("value", "CN123"),
            _set("check_passed", None),
        ),
    ),
    (
        "care_leaver_contact",
        _all(
            _set("in_touch", "RHOM"),
            _set("activity", "ACT_0"),
            _set("accommodation", None),
            _set("accommodation_suitable", None),
        ),
    ),
    (
        "care_leaver_contact",
        _all(_set("accommodation", "S"), _set("accommodation_suitable", False)),
    ),
    ("cin_plan", _set("end_date", D(2025, 4, 23))),
    ("missing_episode", _set("end_time", None)),
    ("contact", _set("envelope.subject.nhs_number", None)),
]


@pytest.mark.parametrize("event,mutate", GOOD, ids=[f"{c[0]}-{i}" for i, c in enumerate(GOOD)])
def test_edge_cases_that_are_valid(event, mutate):
    record = example(CM + event)
    mutate(record)
    validate(CM + event, record)
    Codec().encode(CM + event, record)


def test_unknown_case_management_event_type_is_rejected():
    with pytest.raises(ContractError) as err:
        validate("case_management.no_such_event", example("case_management.contact"))
    assert err.value.rule == "validation.unknown_event_type"


def test_a_domain_without_a_validator_has_nothing_to_check():
    validate("no_such_domain.event", {})
