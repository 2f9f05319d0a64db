import copy
import datetime as dt

import pytest

from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.examples.case_management import example
from schemas.examples.consent import SHARING_PREFERENCE_RECORDED
from schemas.examples.voice import STATEMENT_RECORDED, VOICE_NOTE_RECORDED
from streams.disclosure import publish_count, round_half_up
from streams.gatekeeper.sharing import ledger_entry, shared_event
from streams.policy_client import Decision
from streams.pseudonyms import Pseudonymiser
from streams.transforms import (
    REDACTED,
    age_band,
    apply_transforms,
    parse_path,
    postcode_district,
)
from tests.examples import referral

P = Pseudonymiser(b"k" * 32)
ALLOW = Decision(
    allow=True,
    reasons=("ok",),
    lawful_basis="public task",
    agreement="isa",
    transforms={"referral_id": "pseudonymise", "referral_date": "month", "referral_source": "keep"},
    obligations=frozenset({"pseudonymise_subject"}),
    revision="r1",
)


def test_unlisted_fields_are_withheld():
    out = apply_transforms(referral(), {"referral_source": "keep"}, P, "strategic_reporting")
    assert out.fields["referral_source"] == "RS_2A"
    assert out.fields["primary_need"] is None
    assert "primary_need" in out.withheld and "referral_source" not in out.withheld


def test_dates_generalise_to_month_and_year():
    rec = referral()
    assert (
        apply_transforms(rec, {"referral_date": "month"}, P, "p").fields["referral_date"]
        == "2025-03"
    )
    assert (
        apply_transforms(rec, {"referral_date": "year"}, P, "p").fields["referral_date"] == "2025"
    )


def test_pseudonyms_differ_between_purposes_and_hide_the_value():
    a = P.pseudonym("strategic_reporting", "person", "999:C1")
    b = P.pseudonym("research", "person", "999:C1")
    assert a != b and "C1" not in a
    assert a == Pseudonymiser(b"k" * 32).pseudonym("strategic_reporting", "person", "999:C1")
    assert a != Pseudonymiser(b"j" * 32).pseudonym("strategic_reporting", "person", "999:C1")


def test_unknown_transform_is_a_contract_error():
    with pytest.raises(ContractError) as err:
        apply_transforms(referral(), {"referral_source": "shuffle"}, P, "p")
    assert err.value.rule == "policy.unknown_transform"


def test_postcode_district_and_age_band():
    assert postcode_district("OL1 3AB") == "OL1"
    assert postcode_district("ol113ab") == "OL11"
    assert age_band(0) == "under 1" and age_band(7) == "5-9" and age_band(17) == "16+"


def test_shared_event_has_no_identifiers_and_encodes():
    shared, transformed, withheld = shared_event(
        referral(), ALLOW, "team", "strategic_reporting", P, "999:C0000001"
    )
    assert shared["share"]["identifiers"] is None
    assert shared["share"]["person_pseudonym"]
    data = Codec().encode("share.case_management.referral", shared)
    for raw in (b"9990000018", b"W820200124001", b"C0000001", b"R0000001"):
        assert raw not in data
    assert ("referral_date", "month") in transformed
    assert "team" in withheld


def test_denied_decision_ledger_withholds_everything():
    deny = Decision(False, ("no agreement",), {}, None, frozenset(), None, "r1")
    entry = ledger_entry(referral(), deny, "team", "research", "ref", [], [], None)
    assert entry["outcome"] == "NOT_SHARED"
    assert entry["fields_transformed"] == []
    assert "referral_source" in entry["fields_withheld"]
    Codec().encode("platform.ledger_entry", entry)


RULES = {"suppress_at_or_below": 7, "round_to": 5}


@pytest.mark.parametrize(
    "n,value,status",
    [
        (0, 0.0, "PUBLISHED"),
        (1, None, "SUPPRESSED"),
        (7, None, "SUPPRESSED"),
        (8, 10.0, "PUBLISHED"),
        (12, 10.0, "PUBLISHED"),
        (13, 15.0, "PUBLISHED"),
        (102, 100.0, "PUBLISHED"),
    ],
)
def test_small_counts_are_suppressed_and_others_rounded(n, value, status):
    m = publish_count("referrals", n, RULES)
    assert (m["value"], m["status"]) == (value, status)


def test_round_half_up():
    assert [round_half_up(n, 5) for n in (2, 3, 7, 8)] == [0, 5, 5, 10]
    assert round_half_up(7, 1) == 7


def test_shared_dates_are_strings_in_schema():
    shared, _, _ = shared_event(referral(), ALLOW, "team", "strategic_reporting", P)
    assert isinstance(shared["share"]["event_time"], dt.datetime)
    assert shared["referral_date"] == "2025-03"


# --- nested paths -----------------------------------------------------------------------


def test_parse_path_names_lists_and_records():
    assert parse_path("items[].text") == [("items", True), ("text", False)]
    assert parse_path("scope.purpose") == [("scope", False), ("purpose", False)]
    assert parse_path("text") == [("text", False)]
    for bad in ("items[]", "items[].", ".text"):
        with pytest.raises(ContractError) as err:
            parse_path(bad)
        assert err.value.rule == "policy.bad_path"


def test_nested_redact_keeps_items_and_redacts_each_text():
    note = copy.deepcopy(VOICE_NOTE_RECORDED)
    out = apply_transforms(note, {"items": "keep", "items[].text": "redact"}, P, "p")
    items = out.fields["items"]
    assert [i["item_code"] for i in items] == [i["item_code"] for i in note["items"]]
    assert [i["text"] for i in items] == [REDACTED, REDACTED, REDACTED, None]
    assert ("items", "keep") in out.transformed
    assert ("items[].text", "redact") in out.transformed
    assert "items[].text" not in out.withheld


def test_nested_drop_withholds_each_text_and_lists_the_path():
    note = copy.deepcopy(VOICE_NOTE_RECORDED)
    out = apply_transforms(note, {"items": "keep", "items[].text": "drop"}, P, "p")
    assert all(i["text"] is None for i in out.fields["items"])
    assert all(i["item_code"] for i in out.fields["items"])
    assert "items[].text" in out.withheld
    assert ("items[].text", "drop") not in out.transformed


def test_nested_transforms_never_change_the_source_record():
    """The gatekeeper shares one decoded record with every subscription."""
    note = copy.deepcopy(VOICE_NOTE_RECORDED)
    before = copy.deepcopy(note)
    apply_transforms(note, {"items": "keep", "items[].text": "drop"}, P, "p")
    assert note == before


def test_nested_field_of_a_record_is_transformed():
    pref = copy.deepcopy(SHARING_PREFERENCE_RECORDED)
    out = apply_transforms(pref, {"scope": "keep", "scope.purpose": "redact"}, P, "p")
    assert out.fields["scope"]["purpose"] == REDACTED
    assert out.fields["scope"]["data_category"] == pref["scope"]["data_category"]
    assert ("scope.purpose", "redact") in out.transformed


def test_nested_fields_not_named_are_kept_with_their_parent_in_their_own_types():
    statement = copy.deepcopy(STATEMENT_RECORDED)
    out = apply_transforms(statement, {"consent_for_reports": "keep"}, P, "p")
    # inside a record the shared schema keeps source types: a timestamp stays a datetime
    assert isinstance(out.fields["consent_for_reports"]["recorded_at"], dt.datetime)


def test_nested_transform_without_the_parent_withholds_the_parent():
    note = copy.deepcopy(VOICE_NOTE_RECORDED)
    out = apply_transforms(note, {"items[].text": "redact"}, P, "p")
    assert out.fields["items"] is None
    assert "items" in out.withheld


def test_nested_transform_inside_a_parent_not_kept_is_an_error():
    note = copy.deepcopy(VOICE_NOTE_RECORDED)
    with pytest.raises(ContractError) as err:
        apply_transforms(note, {"items": "redact", "items[].text": "drop"}, P, "p")
    assert err.value.rule == "policy.nested_without_keep"


def test_nested_transform_inside_a_null_record_is_fine():
    pref = copy.deepcopy(SHARING_PREFERENCE_RECORDED)
    pref["override"] = None
    out = apply_transforms(pref, {"override": "keep", "override.legal_reference": "redact"}, P, "p")
    assert out.fields["override"] is None


def test_pathway_domain_ratings_are_kept_as_a_list_of_records():
    review = example("case_management.pathway_plan_reviewed")
    out = apply_transforms(review, {"domains": "keep"}, P, "p")
    assert out.fields["domains"] == review["domains"]
