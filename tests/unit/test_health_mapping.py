"""FHIR resources to health events: good resources map, bad ones are rejected by rule and field."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from connectors.health import codes
from connectors.health import examples as fx
from connectors.health.fhir import Index, parse
from connectors.health.mapping import COMMENT, CPIS, REVIEW, Context, Outcome, map_entries
from schemas.codec import Codec

CTX = Context("hv-test", "SYSTMONE", "999")
NHS = "9990000018"  # synthetic range, valid mod 11
BORN = "2022-11-15"
WHEN = "2025-02-10T10:30:00Z"
AREAS = {
    "communication": (45.0, "ABOVE"),
    "gross_motor": (50.0, "ABOVE"),
    "fine_motor": (35.0, "ABOVE"),
    "problem_solving": (30.0, "MONITOR"),
    "personal_social": (42.5, "ABOVE"),
}
RESULTS = fx.Results("I27", AREAS, ["TALKING", "HEARING"], True, "SALT", 25)


def outcomes(resources: list[dict[str, Any]]) -> list[Outcome]:
    return map_entries(Index([parse(i + 1, r) for i, r in enumerate(resources)]), CTX)


def review_resources(form: str = "observations", nhs: str | None = NHS) -> list[dict[str, Any]]:
    res = [fx.patient("p1", BORN, nhs), fx.review_encounter("e1", "p1", WHEN)]
    if form == "questionnaire":
        return [*res, fx.review_questionnaire("e1", "p1", WHEN, RESULTS, comment=("Words.", 1, 0))]
    return res + fx.review_observations("e1", "p1", WHEN, RESULTS, panel=form == "panel")


def only(found: list[Outcome], event_type: str) -> dict[str, Any]:
    records = [o.record for o in found if o.event_type == event_type and o.record]
    assert len(records) == 1, [(o.event_type, o.error and o.error.rule) for o in found]
    return records[0]


def rejections(found: list[Outcome]) -> list[tuple[str, str | None, int]]:
    return [(o.error.rule, o.error.field, o.entry.index) for o in found if o.error]


def test_review_from_observations_carries_scores_zones_concerns_and_referral():
    found = outcomes(review_resources())
    assert rejections(found) == []
    review = only(found, REVIEW)
    assert review["communication"] == {"score": 45.0, "zone": "ABOVE"}
    assert review["problem_solving"] == {"score": 30.0, "zone": "MONITOR"}
    assert review["asq3_interval"] == "I27"
    assert review["age_months"] == 26
    assert review["review_date"] == dt.date(2025, 2, 10)
    assert review["parent_concerns"] == ["HEARING", "TALKING"]  # in the schema's order
    assert review["concern_raised_by"] == "BOTH"
    assert review["onward_referral"] == "SALT"
    assert review["asqse2_score"] == 25
    assert review["all_five_at_expected"] is True
    assert review["encounter_id"] == "e1"
    subject = review["envelope"]["subject"]
    assert (subject["nhs_number"], subject["nhs_number_verified"]) == (NHS, True)
    assert subject["mis_child_id"] == "p1" and subject["la_child_id"] is None
    assert review["envelope"]["source_record"]["entity"] == "Encounter"
    Codec().encode(REVIEW, review)  # fits the Avro schema


@pytest.mark.parametrize("form", ["panel", "questionnaire"])
def test_panel_and_questionnaire_give_the_same_review_as_separate_observations(form):
    fields = ("communication", "fine_motor", "asq3_interval", "parent_concerns", "onward_referral")
    expected = only(outcomes(review_resources()), REVIEW)
    review = only(outcomes(review_resources(form)), REVIEW)
    assert {f: review[f] for f in fields} == {f: expected[f] for f in fields}


def test_questionnaire_comment_is_a_parent_comment_about_the_review():
    comment = only(outcomes(review_resources("questionnaire")), COMMENT)
    assert comment["text"] == "Words."
    assert comment["author_role"] == "PARENT_CARER"
    assert comment["about_encounter_id"] == "e1"
    assert comment["consent_for_reports"]["strategic_reporting"] is True
    assert comment["consent_for_reports"]["verbatim_quotes"] is False
    Codec().encode(COMMENT, comment)


def test_communication_comment_keeps_author_mode_language_and_consent():
    text = "She loves books at bedtime."
    res = [
        fx.patient("p1", BORN, NHS),
        fx.parent_comment("c1", "p1", "e1", WHEN, text, reporting=True, mode="VERBAL"),
    ]
    comment = only(outcomes(res), COMMENT)
    assert (comment["author_role"], comment["mode"], comment["language"]) == (
        "PARENT_CARER",
        "SPOKEN",
        "en",
    )
    assert comment["text"] == text and comment["about_encounter_id"] == "e1"
    assert comment["consent_for_reports"]["strategic_reporting"] is True
    Codec().encode(COMMENT, comment)


def test_cpis_notification_carries_setting_time_ods_and_plan():
    res = [fx.patient("p1", BORN, NHS)] + fx.cpis_notification(
        "n1",
        "p1",
        "a1",
        "2025-03-01T21:47:00Z",
        setting="ED",
        ods="RZZ01",
        plan="LAC",
        message_id="m1",
    )
    note = only(outcomes(res), CPIS)
    assert (note["care_setting_type"], note["ods_site_code"], note["plan_type"]) == (
        "ED",
        "RZZ01",
        "LAC",
    )
    assert note["attendance_time"] == dt.datetime(2025, 3, 1, 21, 47, tzinfo=dt.UTC)
    assert note["notification_id"] == "m1"
    Codec().encode(CPIS, note)


def test_bundle_references_by_full_url_resolve():
    res = review_resources()
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    for r in res:
        bundle["entry"].append(
            {"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r}
        )
    for r in res[1:]:
        r["subject"] = {"reference": "urn:uuid:Patient-p1"}
    from connectors.health.fhir import unwrap

    entries = [parse(i, raw, url) for i, raw, url in unwrap(0, bundle)]
    assert (
        only(map_entries(Index(entries), CTX), REVIEW)["envelope"]["subject"]["nhs_number"] == NHS
    )


def test_interval_follows_from_age_when_not_recorded():
    res = review_resources()
    for r in res[2:]:
        r.pop("method", None)
    assert only(outcomes(res), REVIEW)["asq3_interval"] == "I27"  # 26 months 26 days


def test_same_content_gives_same_event_id_and_a_change_a_new_one():
    first = only(outcomes(review_resources()), REVIEW)["envelope"]["event_id"]
    touched = review_resources()
    touched[1]["meta"] = {"lastUpdated": "2025-03-01T00:00:00Z"}
    assert only(outcomes(touched), REVIEW)["envelope"]["event_id"] == first
    changed = review_resources()
    changed[2]["valueQuantity"]["value"] = 50
    assert only(outcomes(changed), REVIEW)["envelope"]["event_id"] != first


def test_unfinished_review_and_other_resources_are_skipped_not_rejected():
    res = review_resources()
    res[1]["status"] = "in-progress"
    loinc = {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}
    weight = {"resourceType": "Observation", "status": "final", "code": loinc}
    org = {"resourceType": "Organization", "id": "o1", "name": "Health visiting"}
    assert outcomes([*res, weight, org]) == []


def _bad(mutate, form: str = "observations") -> list[Outcome]:
    res = review_resources(form)
    mutate(res)
    return outcomes(res)


def _set(path: list[Any], value: Any):
    def mutate(res):
        target = res
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value

    return mutate


NOT_MOD11 = "9990000019"
ENCOUNTER_START = "Encounter.period.start"
BAD_CASES = [
    # (mutation, the value that must never appear in a message, rule, field, entry at fault)
    (_set([0, "identifier", 0, "value"], NOT_MOD11), NOT_MOD11, "nhs_number.check",
     "Patient.identifier", 1),
    (_set([1, "period", "start"], "2025-02-30T10:00:00Z"), "2025-02-30", "fhir.structure",
     ENCOUNTER_START, 2),
    (_set([0, "birthDate"], "2022-13-01"), "2022-13-01", "fhir.structure", "Patient.birthDate", 1),
    (_set([4, "code", "coding", 0, "code"], "asq3-fine-motr"), "asq3-fine-motr",
     "asq3.code_unknown", "Observation.code", 5),
    (_set([2, "valueQuantity", "value"], 12.5), "12.5", "health.asq3_zone",
     "communication.zone", 3),
    (_set([7, "valueCodeableConcept", "coding", 0, "code"], "DIZZY"), "DIZZY",
     "review.concern_code", "Observation.value", 8),
    (lambda res: res.pop(6), "42.5", "asq3.scores_missing", "personal_social", 2),
    (_set([0, "birthDate"], "2025-06-01"), "2025-06-01", "review.before_birth", ENCOUNTER_START, 2),
]  # fmt: skip


@pytest.mark.parametrize("mutate,value,rule,field,index", BAD_CASES)
def test_bad_review_is_rejected_by_rule_and_field_without_the_value(
    mutate, value, rule, field, index
):
    found = _bad(mutate)
    assert [o for o in found if o.record] == []
    assert rejections(found) == [(rule, field, index)]
    error = next(o.error for o in found if o.error)
    for text in (str(error), error.reason, error.field or ""):
        assert value not in text


def test_unknown_care_setting_is_rejected_at_the_attendance_encounter():
    res = [fx.patient("p1", BORN, NHS)] + fx.cpis_notification(
        "n1", "p1", "a1", WHEN, setting="A-AND-E-UNIT", ods="RZZ01", plan="CPP", message_id="m1"
    )
    found = outcomes(res)
    assert rejections(found) == [("cpis.care_setting", "Encounter.type", 2)]
    assert "A-AND-E-UNIT" not in found[0].error.reason


def test_comment_from_a_practitioner_is_not_a_parent_comment():
    com = fx.parent_comment("c1", "p1", None, WHEN, "Private words of a parent.")
    com["sender"] = {"reference": "Practitioner/hv1"}
    found = outcomes([fx.patient("p1", BORN, NHS), com])
    assert rejections(found) == [("comment.author_role", "Communication.sender", 2)]
    assert "Private words" not in found[0].error.reason


def test_invalid_entry_nobody_refers_to_is_rejected_alone():
    stray = fx.patient("p9", "2023-02-31", NHS)
    res = [*review_resources(), stray]
    found = outcomes(res)
    assert sum(1 for o in found if o.record) == 1
    assert rejections(found) == [("fhir.structure", "Patient.birthDate", len(res))]


def test_review_of_an_unresolvable_patient_is_rejected():
    res = review_resources()[1:]
    found = outcomes(res)
    assert rejections(found) == [("reference.unresolved", "Encounter.subject", 1)]


def test_rejections_and_events_keep_entry_order():
    good = review_resources()
    later = copy.deepcopy(good)
    for r in later:
        r["id"] = r["id"].replace("e1", "e2").replace("p1", "p2")
        for k in ("subject", "encounter"):
            if k in r:
                r[k]["reference"] = r[k]["reference"].replace("e1", "e2").replace("p1", "p2")
    later[0]["identifier"][0]["value"] = NOT_MOD11
    found = outcomes(good + later)
    assert [o.order[0] for o in found] == sorted(o.order[0] for o in found)
    assert [bool(o.record) for o in found] == [True, False]
    assert codes.REVIEW_QUESTIONNAIRE.startswith(codes.LOCAL)
