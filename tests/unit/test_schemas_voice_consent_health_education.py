"""The voice, consent, health and education contracts: schemas, examples, validators.

Every event type of the four domains has a synthetic example that round-trips
through the codec, passes its validator and encodes in its shared form; every
validator rule rejects at least one bad record with its rule id and field,
without quoting the bad value.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import pytest

from schemas.catalogue import default_catalogue
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.examples import consent as consent_examples
from schemas.examples import education as education_examples
from schemas.examples import health as health_examples
from schemas.examples import voice as voice_examples
from schemas.validation import consent, education, health, voice
from streams.gatekeeper.sharing import shared_event
from streams.policy_client import Decision
from streams.pseudonyms import Pseudonymiser
from streams.transforms import REDACTED

DOMAINS: dict[str, tuple[dict[str, dict[str, Any]], Callable[[str, dict[str, Any]], None]]] = {
    "voice": (voice_examples.EXAMPLES, voice.validate),
    "consent": (consent_examples.EXAMPLES, consent.validate),
    "health": (health_examples.EXAMPLES, health.validate),
    "education": (education_examples.EXAMPLES, education.validate),
}
EXAMPLES = {et: rec for examples, _ in DOMAINS.values() for et, rec in examples.items()}
EVENT_TYPES = sorted(EXAMPLES)
VOICE_BEARING = (
    "voice.statement_recorded",
    "voice.voice_note_recorded",
    "health.parent_comment_recorded",
)
UTC = dt.UTC


def _validator(event_type: str) -> Callable[[str, dict[str, Any]], None]:
    return DOMAINS[event_type.split(".", 1)[0]][1]


def _keep_all(record: dict[str, Any], **overrides: str) -> Decision:
    transforms = {name: "keep" for name in record if name != "envelope"}
    transforms.update(overrides)
    return Decision(
        allow=True,
        reasons=(),
        transforms=transforms,
        lawful_basis="test",
        obligations=frozenset(),
        agreement=None,
        revision="test-revision",
    )


def _fields(event_type: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in default_catalogue().latest(event_type).schema["fields"]}


# --------------------------------------------------------------------------- examples


def test_every_event_type_of_the_four_domains_has_an_example():
    in_catalogue = {
        et for et in default_catalogue().event_types() if et.split(".", 1)[0] in DOMAINS
    }
    assert len(in_catalogue) == 12
    assert in_catalogue == set(EXAMPLES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_round_trips_through_the_codec_unchanged(event_type):
    codec = Codec()
    schema, back = codec.decode(codec.encode(event_type, EXAMPLES[event_type]))
    assert schema.event_type == event_type
    assert back == EXAMPLES[event_type]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_passes_its_validator_before_and_after_decoding(event_type):
    validate = _validator(event_type)
    codec = Codec()
    validate(event_type, EXAMPLES[event_type])
    validate(event_type, codec.decode(codec.encode(event_type, EXAMPLES[event_type]))[1])


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_example_names_its_event_type_and_schema_version_in_the_envelope(event_type):
    env = EXAMPLES[event_type]["envelope"]
    assert env["event_type"] == event_type
    assert env["schema_version"] == default_catalogue().latest(event_type).version


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_shared_form_of_example_encodes_when_every_field_is_kept(event_type):
    shared_schema = default_catalogue().latest(f"share.{event_type}")
    record = EXAMPLES[event_type]
    shared, transformed, withheld = shared_event(
        record, _keep_all(record), "test_recipient", "test_purpose", Pseudonymiser(b"test-key")
    )
    assert withheld == []
    assert {name for name, _ in transformed} == set(record) - {"envelope"}
    codec = Codec()
    schema, back = codec.decode(codec.encode(shared_schema.event_type, shared))
    assert schema.event_type == f"share.{event_type}"
    assert back["share"]["event_type"] == event_type
    assert back["share"]["purpose"] == "test_purpose"


@pytest.mark.parametrize(
    "event_type", [et for et in EVENT_TYPES if "text" in EXAMPLES[et] and et in VOICE_BEARING]
)
def test_top_level_restricted_text_can_be_redacted_in_the_shared_form(event_type):
    record = EXAMPLES[event_type]
    shared, _, _ = shared_event(
        record,
        _keep_all(record, text="redact"),
        "test_recipient",
        "test_purpose",
        Pseudonymiser(b"test-key"),
    )
    codec = Codec()
    _, back = codec.decode(codec.encode(f"share.{event_type}", shared))
    assert back["text"] == REDACTED


# --------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("event_type", VOICE_BEARING)
def test_voice_bearing_event_carries_author_role_mode_and_consent_for_reports(event_type):
    fields = _fields(event_type)
    assert fields["author_role"]["type"]["name"] == "chorus.voice.AuthorRole"
    assert fields["author_role"]["type"]["symbols"] == [
        "CHILD",
        "YOUNG_PERSON",
        "PARENT_CARER",
        "PRACTITIONER",
        "ADVOCATE",
        "IRO",
    ]
    assert fields["mode"]["type"]["symbols"] == [
        "SPOKEN",
        "WRITTEN",
        "NON_VERBAL",
        "CREATIVE",
        "APP_EMOJI",
    ]
    consent_fields = {f["name"] for f in fields["consent_for_reports"]["type"]["fields"]}
    assert consent_fields == {"strategic_reporting", "verbatim_quotes", "recorded_at"}


def _all_fields(node: Any):
    if isinstance(node, list):
        for branch in node:
            yield from _all_fields(branch)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "error"):
            for f in node["fields"]:
                yield f
                yield from _all_fields(f["type"])
        elif node.get("type") in ("array", "map"):
            yield from _all_fields(node.get("items", node.get("values")))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_free_text_fields_are_marked_restricted_and_carry_strings(event_type):
    schema = default_catalogue().latest(event_type).schema
    for f in _all_fields(schema):
        restricted = f["doc"].startswith("Restricted free text:")
        if f["name"] == "text":
            assert restricted, f["name"]
        if restricted:
            branches = f["type"] if isinstance(f["type"], list) else [f["type"]]
            assert set(branches) <= {"null", "string"}, f["name"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_event_schema_follows_the_catalogue_conventions(event_type):
    schema = default_catalogue().latest(event_type).schema
    domain, event = event_type.split(".", 1)
    assert schema["name"].startswith(f"chorus.{domain}.")
    assert schema["schema_version"] == 1 and schema["doc"]
    first = schema["fields"][0]
    assert first["name"] == "envelope" and first["doc"] == "The common envelope."
    for f in _all_fields(schema):
        branches = f["type"] if isinstance(f["type"], list) else [f["type"]]
        if "null" in branches:
            assert branches[0] == "null" and f.get("default", "missing") is None, f["name"]


def test_attendance_code_list_matches_the_by_code_documentation():
    doc = _fields("education.attendance_summarised")["by_code"]["doc"]
    documented = set(
        re.findall(r"\b(?:[A-Z][A-Z0-9]?|PRESENT_AM|PRESENT_PM|PLANNED_CLOSURE)\b", doc)
    )
    retired = {"H", "F", "J", "Y"}
    assert documented >= education.ATTENDANCE_CODES_2024
    assert retired.isdisjoint(education.ATTENDANCE_CODES_2024)


# --------------------------------------------------------------------------- rules

_SECRET = "Zebra-crossing-secret-words"


def _set(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = record
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


OVERRIDE = {
    "reason_code": "LEGAL_DUTY",
    "legal_reference": "CA1989_S47",
    "recorded_by_role": "team_manager",
    "recorded_at": _ts(2025, 6, 10, 9, 0),
}
ELGS = education_examples.EYFSP_ASSESSED["elg_outcomes"]
ALL_EXPECTED = [{**o, "outcome": "EXPECTED"} for o in ELGS]

# (id, event type, {dotted path: new value}, rule, field, encodes with Avro)
BAD: list[tuple[str, str, dict[str, Any], str, str, bool]] = [
    # shared envelope checks
    ("nhs-number-check", "voice.statement_recorded",
     {"envelope.subject.nhs_number": "9990000019"}, "nhs_number.check",
     "envelope.subject.nhs_number", True),
    ("nhs-number-shape", "health.parent_comment_recorded",
     {"envelope.subject.nhs_number": "999 000 0018"}, "nhs_number.check",
     "envelope.subject.nhs_number", True),
    ("upn-check-letter", "education.eyfsp_assessed",
     {"envelope.subject.upn": "A820200124001"}, "upn.check", "envelope.subject.upn", True),
    ("upn-in-consent", "consent.sharing_preference_recorded",
     {"envelope.subject.upn": "I820200124001"}, "upn.check", "envelope.subject.upn", True),
    ("la-child-id-shape", "education.fsm_eligibility_changed",
     {"envelope.subject.la_child_id": "C-0000006/old"}, "la_child_id.format",
     "envelope.subject.la_child_id", True),
    ("envelope-event-type", "voice.voice_note_recorded",
     {"envelope.event_type": "voice.statement_recorded"}, "envelope.event_type",
     "envelope.event_type", True),
    # voice.statement_recorded
    ("instrument-other-needs-code", "voice.statement_recorded", {"instrument_code": None},
     "voice.instrument_code_required", "instrument_code", True),
    ("instrument-code-free-text", "voice.statement_recorded",
     {"instrument_code": _SECRET.replace("-", " ")}, "voice.instrument_code",
     "instrument_code", True),
    ("item-code-free-text", "voice.statement_recorded", {"items.0.item_code": "my own words"},
     "voice.item_code", "items[0].item_code", True),
    ("score-above-scale", "voice.statement_recorded", {"items.0.score": 11},
     "voice.score_scale", "items[0].score", True),
    ("score-below-scale", "voice.statement_recorded", {"items.1.score": -3},
     "voice.score_scale", "items[1].score", True),
    ("score-without-scale", "voice.statement_recorded",
     {"items.0.scale_min": None, "items.0.scale_max": None}, "voice.score_scale",
     "items[0].score", True),
    ("scale-half-given", "voice.statement_recorded", {"items.2.scale_min": 1},
     "voice.scale", "items[2].scale_max", True),
    ("scale-inverted", "voice.statement_recorded",
     {"items.0.scale_min": 10, "items.0.scale_max": 0}, "voice.scale", "items[0].scale_max",
     True),
    ("text-too-long", "voice.statement_recorded", {"text": "x" * 20_001}, "text.length",
     "text", True),
    ("text-lone-surrogate", "voice.statement_recorded", {"text": _SECRET + "\ud800"},
     "text.utf8", "text", False),
    ("text-nul", "voice.statement_recorded", {"text": _SECRET + "\x00"},
     "text.control_character", "text", True),
    ("language-not-a-tag", "voice.statement_recorded", {"language": "our home language"},
     "language.tag", "language", True),
    ("theme-free-text", "voice.statement_recorded", {"themes": ["Feeling unsafe at home"]},
     "voice.theme_code", "themes[0]", True),
    # voice.voice_note_recorded
    ("voice-note-by-practitioner", "voice.voice_note_recorded",
     {"author_role": "PRACTITIONER"}, "voice.voice_note_author", "author_role", True),
    ("voice-note-prompt-twice", "voice.voice_note_recorded", {"items.1.item_code": "WORRIES"},
     "voice.voice_note_item_repeated", "items[2].item_code", True),
    ("voice-note-text-too-long", "voice.voice_note_recorded",
     {"items.0.text": _SECRET * 1_000}, "text.length", "items[0].text", True),
    # consent.sharing_preference_recorded
    ("child-age", "consent.sharing_preference_recorded", {"child_age_years": 31},
     "consent.child_age", "child_age_years", True),
    ("scope-free-text", "consent.sharing_preference_recorded",
     {"scope.recipient": "the school down the road"}, "consent.scope_code", "scope.recipient",
     True),
    ("effective-to-before-from", "consent.sharing_preference_recorded",
     {"effective_to": _ts(2025, 6, 1, 0, 0)}, "consent.effective_period", "effective_to", True),
    ("effective-to-equals-from", "consent.sharing_preference_recorded",
     {"effective_to": _ts(2025, 6, 3, 15, 0)}, "consent.effective_period", "effective_to",
     True),
    ("withdrawn-without-time", "consent.sharing_preference_recorded", {"withdrawn": True},
     "consent.withdrawn_at", "withdrawn_at", True),
    ("withdrawn-at-without-withdrawn", "consent.sharing_preference_recorded",
     {"withdrawn_at": _ts(2025, 7, 1, 12, 0)}, "consent.withdrawn_at", "withdrawn_at", True),
    ("withdrawn-before-effective", "consent.sharing_preference_recorded",
     {"withdrawn": True, "withdrawn_at": _ts(2025, 5, 1, 12, 0)}, "consent.withdrawn_at",
     "withdrawn_at", True),
    ("override-of-an-allow", "consent.sharing_preference_recorded",
     {"decision": "ALLOW", "override": OVERRIDE}, "consent.override_decision", "override",
     True),
    ("override-without-legal-reference", "consent.sharing_preference_recorded",
     {"override": {**OVERRIDE, "legal_reference": None}}, "consent.override_reason",
     "override.legal_reference", True),
    ("override-reason-free-text", "consent.sharing_preference_recorded",
     {"override": {**OVERRIDE, "reason_code": "OTHER", "legal_reference": "mum said so"}},
     "consent.override_reason", "override.legal_reference", True),
    ("override-without-role", "consent.sharing_preference_recorded",
     {"override": {**OVERRIDE, "recorded_by_role": ""}}, "consent.override_role",
     "override.recorded_by_role", True),
    # health.development_review_completed
    ("review-age-too-young", "health.development_review_completed", {"age_months": 17},
     "health.review_age", "age_months", True),
    ("review-age-too-old", "health.development_review_completed", {"age_months": 43},
     "health.review_age", "age_months", True),
    ("asq3-score-over-60", "health.development_review_completed",
     {"communication.score": 75.5}, "health.asq3_score", "communication.score", True),
    ("asq3-score-negative", "health.development_review_completed",
     {"gross_motor.score": -2.5}, "health.asq3_score", "gross_motor.score", True),
    ("asq3-score-nan", "health.development_review_completed",
     {"personal_social.score": math.nan}, "health.asq3_score", "personal_social.score", True),
    ("asq3-below-cutoff-not-below", "health.development_review_completed",
     {"fine_motor.score": 15.0}, "health.asq3_zone", "fine_motor.zone", True),
    ("asq3-below-zone-above-cutoff", "health.development_review_completed",
     {"problem_solving.zone": "BELOW"}, "health.asq3_zone", "problem_solving.zone", True),
    ("asq3-cutoff-depends-on-interval", "health.development_review_completed",
     {"asq3_interval": "I24", "communication.score": 25.0}, "health.asq3_zone",
     "communication.zone", True),
    ("all-five-false-with-none-below", "health.development_review_completed",
     {"all_five_at_expected": False}, "health.all_five_at_expected", "all_five_at_expected",
     True),
    ("all-five-true-with-one-below", "health.development_review_completed",
     {"fine_motor": {"score": 15.0, "zone": "BELOW"}}, "health.all_five_at_expected",
     "all_five_at_expected", True),
    ("asqse2-negative", "health.development_review_completed", {"asqse2_score": -10},
     "health.asqse2_score", "asqse2_score", True),
    ("parent-concern-twice", "health.development_review_completed",
     {"parent_concerns": ["TALKING", "HEARING", "TALKING"]}, "health.parent_concerns",
     "parent_concerns", True),
    ("parent-concerns-raised-by-practitioner", "health.development_review_completed",
     {"concern_raised_by": "PRACTITIONER"}, "health.concern_raised_by", "concern_raised_by",
     True),
    ("no-parent-concerns-raised-by-parent", "health.development_review_completed",
     {"parent_concerns": []}, "health.concern_raised_by", "concern_raised_by", True),
    # health.parent_comment_recorded
    ("comment-blank", "health.parent_comment_recorded", {"text": "   "}, "text.required",
     "text", True),
    ("comment-too-long", "health.parent_comment_recorded", {"text": _SECRET * 800},
     "text.length", "text", True),
    ("comment-control-character", "health.parent_comment_recorded",
     {"text": _SECRET + "\x1b[2J"}, "text.control_character", "text", True),
    # health.unscheduled_care_attendance_notified
    ("cpis-without-nhs-number", "health.unscheduled_care_attendance_notified",
     {"envelope.subject.nhs_number": None}, "nhs_number.required",
     "envelope.subject.nhs_number", True),
    ("ods-code-shape", "health.unscheduled_care_attendance_notified",
     {"ods_site_code": "rzz 01"}, "health.ods_code", "ods_site_code", True),
    # education.eyfsp_assessed
    ("academic-year-not-consecutive", "education.eyfsp_assessed",
     {"academic_year": "2024/26"}, "education.academic_year", "academic_year", True),
    ("academic-year-shape", "education.eyfsp_assessed", {"academic_year": "2024-25"},
     "education.academic_year", "academic_year", True),
    ("setting-urn-shape", "education.eyfsp_assessed", {"setting_urn": "12345"},
     "education.urn", "setting_urn", True),
    ("establishment-number-shape", "education.eyfsp_assessed",
     {"establishment_number": "20011"}, "education.establishment_number",
     "establishment_number", True),
    ("elg-missing", "education.eyfsp_assessed", {"elg_outcomes": ELGS[:16]},
     "education.elg_complete", "elg_outcomes", True),
    ("elg-twice", "education.eyfsp_assessed", {"elg_outcomes": [*ELGS, ELGS[0]]},
     "education.elg_complete", "elg_outcomes", True),
    ("gld-with-an-emerging-goal", "education.eyfsp_assessed", {"gld": True},
     "education.gld", "gld", True),
    ("no-gld-with-all-expected", "education.eyfsp_assessed", {"elg_outcomes": ALL_EXPECTED},
     "education.gld", "gld", True),
    ("gld-with-a-goal-not-assessed", "education.eyfsp_assessed",
     {"elg_outcomes": [*ALL_EXPECTED[:2], {"elg": "ELG03", "outcome": "NOT_ASSESSED"},
                       *ALL_EXPECTED[3:]], "gld": True},
     "education.gld", "gld", True),
    # education.attendance_summarised
    ("absences-exceed-possible", "education.attendance_summarised",
     {"authorised_absences": 140}, "education.attendance_counts", "unauthorised_absences",
     True),
    ("negative-sessions", "education.attendance_summarised", {"sessions_possible": -142},
     "education.attendance_counts", "sessions_possible", True),
    ("symbol-code-not-named", "education.attendance_summarised",
     {"by_code": {"/": 63, "PRESENT_PM": 61}}, "education.attendance_code", "by_code", True),
    ("retired-code", "education.attendance_summarised", {"by_code.H": 2},
     "education.attendance_code", "by_code", True),
    ("unknown-code", "education.attendance_summarised", {"by_code.ZZTOP": 2},
     "education.attendance_code", "by_code", True),
    ("negative-code-count", "education.attendance_summarised", {"by_code.I": -8},
     "education.attendance_counts", "by_code.I", True),
    ("persistent-absence-flag", "education.attendance_summarised",
     {"persistent_absence_10": False}, "education.persistent_absence", "persistent_absence_10",
     True),
    ("severe-absence-flag", "education.attendance_summarised", {"severe_absence_50": True},
     "education.severe_absence", "severe_absence_50", True),
    ("attendance-school-urn", "education.attendance_summarised", {"school_urn": "EY99901"},
     "education.urn", "school_urn", True),
    # education.suspension_or_exclusion
    ("suspension-without-sessions", "education.suspension_or_exclusion", {"sessions": None},
     "education.exclusion_sessions", "sessions", True),
    ("suspension-over-45-days", "education.suspension_or_exclusion", {"sessions": 91},
     "education.exclusion_sessions", "sessions", True),
    ("permanent-zero-sessions", "education.suspension_or_exclusion",
     {"category": "PERMANENT", "sessions": 0}, "education.exclusion_sessions", "sessions",
     True),
    ("no-reason", "education.suspension_or_exclusion", {"reasons": []},
     "education.exclusion_reason", "reasons", True),
    ("reason-free-text", "education.suspension_or_exclusion",
     {"reasons": ["threw a chair at Mr Smith"]}, "education.exclusion_reason", "reasons[0]",
     True),
    ("reason-twice", "education.suspension_or_exclusion", {"reasons": ["DB", "PA", "DB"]},
     "education.exclusion_reason", "reasons", True),
    # education.sen_status_changed
    ("no-sen-with-needs", "education.sen_status_changed", {"sen_provision": "N"},
     "education.sen_needs", "needs", True),
    ("sen-support-without-needs", "education.sen_status_changed", {"needs": []},
     "education.sen_needs", "needs", True),
    ("two-primary-needs", "education.sen_status_changed", {"needs.1.rank": 1},
     "education.sen_needs", "needs", True),
    ("rank-three", "education.sen_status_changed", {"needs.1.rank": 3},
     "education.sen_needs", "needs", True),
    ("need-type-twice", "education.sen_status_changed", {"needs.1.need_type": "SLCN"},
     "education.sen_need_type", "needs", True),
    ("nsa-with-ehc-plan", "education.sen_status_changed",
     {"sen_provision": "E", "needs.0.need_type": "NSA"}, "education.sen_need_type", "needs",
     True),
    # education.ehcp_milestone
    ("within-20-weeks-on-request", "education.ehcp_milestone",
     {"milestone": "REQUEST_RECEIVED", "exception": None}, "education.ehcp_within_20_weeks",
     "within_20_weeks", True),
    ("exception-on-annual-review", "education.ehcp_milestone",
     {"milestone": "ANNUAL_REVIEW", "within_20_weeks": None}, "education.ehcp_exception",
     "exception", True),
    ("within-20-weeks-disagrees-with-dates", "education.ehcp_milestone",
     {"request_date": dt.date(2024, 6, 3)}, "education.ehcp_within_20_weeks",
     "within_20_weeks", True),
    ("request-after-milestone", "education.ehcp_milestone",
     {"request_date": dt.date(2025, 2, 3)}, "education.ehcp_dates", "request_date", True),
    ("ceased-without-reason", "education.ehcp_milestone",
     {"milestone": "PLAN_CEASED", "within_20_weeks": None, "exception": None},
     "education.ehcp_ceased_reason", "ceased_reason", True),
    ("ceased-reason-on-issue", "education.ehcp_milestone", {"ceased_reason": "MOVED_LA"},
     "education.ehcp_ceased_reason", "ceased_reason", True),
    ("ceased-reason-free-text", "education.ehcp_milestone",
     {"milestone": "PLAN_CEASED", "within_20_weeks": None, "exception": None,
      "ceased_reason": "moved to Leeds with gran"},
     "education.ehcp_ceased_reason", "ceased_reason", True),
    # education.fsm_eligibility_changed
    ("fsm-ends-before-start", "education.fsm_eligibility_changed",
     {"end_date": dt.date(2024, 11, 3)}, "education.fsm_period", "end_date", True),
]  # fmt: skip


def _scalars(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif isinstance(value, str) and len(value) >= 3 and not re.fullmatch(r"[A-Z0-9_]+", value):
        yield value  # not an enum symbol or a code the message may legitimately name
    elif isinstance(value, int | float) and not isinstance(value, bool) and len(str(value)) >= 2:
        yield str(value)


@pytest.mark.parametrize(
    "event_type,changes,rule,field,encodes", [case[1:] for case in BAD], ids=[c[0] for c in BAD]
)
def test_bad_record_is_rejected_with_rule_and_field_but_not_its_value(
    event_type, changes, rule, field, encodes
):
    record = copy.deepcopy(EXAMPLES[event_type])
    for path, value in changes.items():
        _set(record, path, copy.deepcopy(value))
    if encodes:  # Avro accepts it: only the validator can catch it
        codec = Codec()
        record = codec.decode(codec.encode(event_type, record))[1]
    with pytest.raises(ContractError) as err:
        _validator(event_type)(event_type, record)
    assert (err.value.rule, err.value.field) == (rule, field)
    message = str(err.value)
    assert message == err.value.reason
    for secret in [_SECRET, *(s for v in changes.values() for s in _scalars(v))]:
        assert secret not in message


RULE_ID = re.compile(
    r'"((?:voice|consent|health|education|text|language|nhs_number|upn|envelope|validation)'
    r'\.[a-z0-9_]+)"'
)


def test_every_rule_of_every_validator_has_a_bad_record():
    rules = set()
    for module in (voice, consent, health, education):
        with open(module.__file__, encoding="utf-8") as source:
            rules |= set(RULE_ID.findall(source.read()))
    rules -= set(EXAMPLES)  # event type names, not rules
    tested = {case[3] for case in BAD} | {"validation.unknown_event_type", "text.type"}
    assert len(rules) > 40
    assert rules - tested == set()


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_validator_rejects_an_event_type_of_another_domain(domain):
    other = next(et for et in EVENT_TYPES if not et.startswith(f"{domain}."))
    with pytest.raises(ContractError) as err:
        DOMAINS[domain][1](other, EXAMPLES[other])
    assert err.value.rule == "validation.unknown_event_type"


def test_non_text_in_a_text_field_is_rejected():
    with pytest.raises(ContractError) as err:
        voice.check_restricted_text(12345, "text")
    assert (err.value.rule, err.value.field) == ("text.type", "text")
    assert "12345" not in str(err.value)


# --------------------------------------------------------------------------- accepted edge cases


def _round_trip_and_validate(event_type: str, record: dict[str, Any]) -> dict[str, Any]:
    codec = Codec()
    back = codec.decode(codec.encode(event_type, record))[1]
    _validator(event_type)(event_type, record)
    _validator(event_type)(event_type, back)
    return back


def test_override_of_an_objection_with_a_legal_reference_is_accepted():
    record = copy.deepcopy(consent_examples.SHARING_PREFERENCE_RECORDED)
    record["override"] = OVERRIDE
    assert _round_trip_and_validate("consent.sharing_preference_recorded", record) == record


def test_significant_harm_override_needs_no_legal_reference():
    record = copy.deepcopy(consent_examples.SHARING_PREFERENCE_RECORDED)
    record["override"] = {**OVERRIDE, "reason_code": "SIGNIFICANT_HARM", "legal_reference": None}
    _round_trip_and_validate("consent.sharing_preference_recorded", record)


def test_withdrawn_preference_with_its_time_is_accepted():
    record = copy.deepcopy(consent_examples.SHARING_PREFERENCE_RECORDED)
    record.update(withdrawn=True, withdrawn_at=_ts(2025, 9, 1, 10, 0), effective_to=None)
    _round_trip_and_validate("consent.sharing_preference_recorded", record)


@pytest.mark.parametrize("interval,domain,cutoff", [("I27", "communication", 24.02),
                                                    ("I30", "communication", 33.30),
                                                    ("I24", "fine_motor", 35.16)])  # fmt: skip
def test_asq3_score_exactly_at_the_cutoff_is_at_the_expected_level_after_encoding(
    interval, domain, cutoff
):
    record = copy.deepcopy(health_examples.DEVELOPMENT_REVIEW_COMPLETED)
    record["asq3_interval"] = interval
    for name in health.ASQ3_DOMAINS:
        record[name] = {"score": 60.0, "zone": "ABOVE"}
    record[domain] = {"score": cutoff, "zone": "MONITOR"}
    back = _round_trip_and_validate("health.development_review_completed", record)
    assert back["all_five_at_expected"] is True


def test_non_verbal_statement_without_words_or_scores_is_accepted():
    record = copy.deepcopy(voice_examples.STATEMENT_RECORDED)
    record.update(
        author_role="CHILD",
        context="CLA_REVIEW",
        instrument="FREE_TEXT",
        instrument_code=None,
        mode="NON_VERBAL",
        items=[],
        text=None,
        language=None,
        themes=[],
    )
    _round_trip_and_validate("voice.statement_recorded", record)


def test_emoji_rating_from_an_app_is_accepted():
    record = copy.deepcopy(voice_examples.STATEMENT_RECORDED)
    record.update(
        author_role="CHILD",
        context="APP",
        instrument="MOMO",
        instrument_code=None,
        mode="APP_EMOJI",
        items=[
            {
                "item_code": "mood_today",
                "score": 2,
                "scale_min": 1,
                "scale_max": 5,
                "answer_yn": None,
            },
        ],  # fmt: skip
        text="\N{WORRIED FACE}",
        themes=["feelings"],
        about_correlation_id=None,
    )
    assert (
        _round_trip_and_validate("voice.statement_recorded", record)["text"] == "\N{WORRIED FACE}"
    )


def test_text_of_exactly_20000_characters_is_accepted():
    record = copy.deepcopy(health_examples.PARENT_COMMENT_RECORDED)
    record["text"] = "\N{LATIN SMALL LETTER E WITH ACUTE}" * 20_000
    _round_trip_and_validate("health.parent_comment_recorded", record)


def test_permanent_exclusion_without_sessions_is_accepted():
    record = copy.deepcopy(education_examples.SUSPENSION_OR_EXCLUSION)
    record.update(category="PERMANENT", sessions=None, reasons=["PA", "DB"])
    _round_trip_and_validate("education.suspension_or_exclusion", record)


def test_no_sen_without_needs_is_accepted():
    record = copy.deepcopy(education_examples.SEN_STATUS_CHANGED)
    record.update(sen_provision="N", needs=[])
    _round_trip_and_validate("education.sen_status_changed", record)


def test_plan_ceased_with_a_reason_code_is_accepted():
    record = copy.deepcopy(education_examples.EHCP_MILESTONE)
    record.update(
        milestone="PLAN_CEASED",
        within_20_weeks=None,
        exception=None,
        ceased_reason="MOVED_LA",
        request_date=None,
    )
    _round_trip_and_validate("education.ehcp_milestone", record)


def test_attendance_with_no_possible_sessions_is_neither_persistent_nor_severe():
    record = copy.deepcopy(education_examples.ATTENDANCE_SUMMARISED)
    record.update(
        sessions_possible=0,
        authorised_absences=0,
        unauthorised_absences=0,
        by_code={"X": 10},
        persistent_absence_10=False,
        severe_absence_50=False,
    )
    _round_trip_and_validate("education.attendance_summarised", record)
