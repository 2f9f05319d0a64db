"""Voice from form answers: one statement per form and speaker, or a Voice Note."""

import datetime as dt

import pytest

from connectors.case_management import voice_mapping
from connectors.case_management.mappings.base import Source
from connectors.case_management.mappings.voice import form_events
from schemas.errors import ContractError

SRC = Source("lcs-test", "LIQUIDLOGIC_LCS", "999")
VOICE = voice_mapping.load()
STAMP = dt.datetime(2025, 5, 12, 14, 5)
AT = dt.datetime(2025, 5, 12, 11, 30)
WORDS = "I like having my own room because it helps me feel calm."


def form(form_type, answers, **o):
    rows = [
        {
            "foan_answer_id": i,
            "foan_form_id": "FRM1",
            "foan_form_type": form_type,
            "foan_person_id": "C0000001",
            "foan_question_code": q,
            "foan_answer": a,
            "foan_answered_at": AT + dt.timedelta(minutes=i),
            "last_updated": STAMP,
        }
        for i, (q, a) in enumerate(answers)
    ]
    group = {
        **rows[0],
        "answers": rows,
        "nhs_number": "9990000018",
        "upn": None,
        "_dob": dt.date(2012, 6, 15),
    }
    return {**group, **o}


SOS = [
    ("SOSAssessmentId", "CINA1"),
    ("SOSChildScale", "4"),
    ("SOSChildWords", WORDS),
    ("SOSWorkerScale", "3"),
    ("SOSChildConsentReports", "Y"),
    ("SOSChildConsentQuotes", "N"),
]


def test_a_form_with_two_speakers_gives_two_statements_about_the_same_assessment():
    events = form_events(form("ASSESSMENT_SIGNS_OF_SAFETY", SOS), SRC, VOICE)
    assert [t for t, _ in events] == ["voice.statement_recorded"] * 2
    child, worker = (e for _, e in events)
    assert (child["author_role"], worker["author_role"]) == ("CHILD", "PRACTITIONER")
    assert child["items"] == [
        {
            "item_code": "safety_scale",
            "score": 4,
            "scale_min": 0,
            "scale_max": 10,
            "answer_yn": None,
        }
    ]
    assert child["text"] == WORDS and worker["text"] is None
    assert child["consent_for_reports"]["strategic_reporting"] is True
    assert child["consent_for_reports"]["verbatim_quotes"] is False
    assert worker["consent_for_reports"]["strategic_reporting"] is True  # fixed in the file
    assert child["about_correlation_id"] == worker["about_correlation_id"] == "CINA1"
    assert child["envelope"]["event_id"] != worker["envelope"]["event_id"]
    assert child["expressed_at"] == (AT + dt.timedelta(minutes=1)).replace(tzinfo=dt.UTC)


def test_a_child_of_16_speaks_as_a_young_person():
    [child, _] = form_events(
        form("ASSESSMENT_SIGNS_OF_SAFETY", SOS, _dob=dt.date(2008, 1, 1)), SRC, VOICE
    )
    assert child[1]["author_role"] == "YOUNG_PERSON"


def test_consent_not_recorded_means_no_consent():
    answers = [(q, a) for q, a in SOS if "Consent" not in q]
    child = form_events(form("ASSESSMENT_SIGNS_OF_SAFETY", answers), SRC, VOICE)[0][1]
    assert child["consent_for_reports"]["strategic_reporting"] is False


def test_yes_no_items_mode_and_themes_come_from_their_questions():
    answers = [
        ("LACReviewId", "CLAR1"),
        ("LACChildViews", WORDS),
        ("LACExplainedWorries", "Y"),
        ("LACPlanSafe", "N"),
        ("LACHowViewsGiven", "CREATIVE"),
        ("LACThemes", "school, home"),
        ("LACLanguage", "en"),
    ]
    [(_, e)] = form_events(form("CLA_REVIEW_VIEWS", answers), SRC, VOICE)
    assert e["instrument"] == "SSD_VOCH" and e["mode"] == "CREATIVE"
    assert [(i["item_code"], i["answer_yn"]) for i in e["items"]] == [
        ("explained_worries", True),
        ("plan_safe", False),
    ]
    assert e["themes"] == ["school", "home"] and e["language"] == "en"


def test_a_voice_note_carries_each_prompt_and_a_blank_answer_as_no_text():
    answers = [
        ("VNReferralId", "EH0000001"),
        ("VNHubMeetingDate", "2025-05-20"),
        ("VNWhatMatters", "Being together at tea time."),
        ("VNWhatWouldHelp", ""),
        ("VNConsentReports", "Y"),
        ("VNConsentQuotes", "Y"),
    ]
    [(t, e)] = form_events(form("EH_VOICE_NOTE", answers), SRC, VOICE)
    assert t == "voice.voice_note_recorded"
    assert e["referral_id"] == "EH0000001" and e["hub_meeting_date"] == dt.date(2025, 5, 20)
    assert e["items"] == [
        {"item_code": "WHAT_MATTERS_TO_US", "text": "Being together at tea time."},
        {"item_code": "WHAT_WOULD_HELP", "text": None},
    ]
    assert e["consent_for_reports"]["verbatim_quotes"] is True


def test_forms_that_are_not_voice_publish_nothing():
    assert form_events(form("CIN_VISIT_RECORD", [("seenYN", "Y")]), SRC, VOICE) == []
    only_consent = [("SOSChildConsentReports", "Y")]
    assert form_events(form("ASSESSMENT_SIGNS_OF_SAFETY", only_consent), SRC, VOICE) == []


@pytest.mark.parametrize(
    "form_type,answers,rule,field",
    [
        (
            "ASSESSMENT_SIGNS_OF_SAFETY",
            [("SOSChildScale", "11")],
            "voice.score_scale",
            "foan_answer[SOSChildScale]",
        ),
        (
            "ASSESSMENT_SIGNS_OF_SAFETY",
            [("SOSChildScale", "quite safe")],
            "voice.score_format",
            "foan_answer[SOSChildScale]",
        ),
        (
            "CLA_REVIEW_VIEWS",
            [("LACChildViews", WORDS), ("LACHowViewsGiven", "SHOUTED")],
            "voice_mode.code_list",
            "foan_answer[LACHowViewsGiven]",
        ),
        (
            "CLA_REVIEW_VIEWS",
            [("LACChildViews", WORDS), ("LACThemes", "Feeling Safe")],
            "voice.theme_code",
            "foan_answer",
        ),
        ("CLA_REVIEW_VIEWS", [("LACChildViews", "x" * 20_001)], "text.length", "foan_answer"),
        (
            "EH_VOICE_NOTE",
            [("VNWorries", "Mornings are hard.")],
            "required.missing",
            "foan_answer[VNReferralId]",
        ),
    ],
)
def test_a_bad_answer_names_the_rule_and_question_never_the_words(form_type, answers, rule, field):
    with pytest.raises(ContractError) as err:
        form_events(form(form_type, answers), SRC, VOICE)
    assert (err.value.rule, err.value.field) == (rule, field)
    assert "quite safe" not in str(err.value) and WORDS not in str(err.value)
