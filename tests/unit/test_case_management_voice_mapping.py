"""The voice mapping file: the shipped one loads; a bad one is refused naming every problem."""

import pytest
import yaml

from connectors.case_management import voice_mapping
from connectors.common.settings import ConfigError


def test_the_shipped_mapping_declares_statements_and_a_voice_note():
    mapping = voice_mapping.load()
    events = {spec.event for spec in mapping.forms.values()}
    assert events == {voice_mapping.STATEMENT, voice_mapping.VOICE_NOTE}
    sos = mapping.spec("ASSESSMENT_SIGNS_OF_SAFETY")
    assert set(sos.authors) == {"CHILD_OR_YOUNG_PERSON", "PRACTITIONER"}
    assert sos.questions["SOSChildScale"].scale == (0, 10)


def _problems(doc) -> list[str]:
    with pytest.raises(ConfigError) as err:
        voice_mapping.parse(doc, "test.yaml")
    return err.value.problems


def test_every_problem_is_named_with_its_form_and_question_at_once():
    problems = _problems(
        {
            "version": 1,
            "forms": {
                "F1": {
                    "context": "DINNER",
                    "authors": {"CHILD": {"instrument": "OTHER", "mode": "SHOUT"}},
                    "questions": {
                        "Q1": {"author": "CHILD", "item": "mood", "scale": [10, 0]},
                        "Q2": {"author": "PARENT_CARER", "text": True},
                        "Q3": {"author": "CHILD", "item": "has spaces", "yes_no": True},
                    },
                    "correlation": "Q2",
                }
            },
        }
    )
    text = "\n".join(problems)
    for part in (
        "form 'F1': context 'DINNER'",
        "form 'F1' author 'CHILD': mode 'SHOUT'",
        "form 'F1' author 'CHILD': instrument OTHER needs an instrument_code",
        "form 'F1' question 'Q1': a scored item needs scale",
        "form 'F1' question 'Q2': author 'PARENT_CARER' is not declared",
        "form 'F1' question 'Q3': needs text: true, or an item code",
        "form 'F1' question 'Q2': is used as correlation and as a voice question",
    ):
        assert part in text, part


def test_a_voice_note_needs_one_author_a_referral_and_known_prompts():
    problems = _problems(
        {
            "version": 1,
            "forms": {
                "VN": {
                    "event": voice_mapping.VOICE_NOTE,
                    "authors": {"PARENT_CARER": {}, "CHILD": {}},
                    "questions": {"A": {"author": "PARENT_CARER", "item": "HOPES"}},
                }
            },
        }
    )
    text = "\n".join(problems)
    assert "exactly one author" in text
    assert "needs referral" in text
    assert "Voice Note item 'HOPES'" in text


def test_unknown_keys_and_versions_are_refused():
    problems = _problems({"version": 2, "forms": {}, "extra": 1})
    assert "top level: unknown key 'extra'" in problems
    assert "top level: version must be 1" in problems


def test_a_missing_or_broken_file_is_one_clear_problem(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        voice_mapping.load(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("forms: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        voice_mapping.load(broken)


def test_a_copy_of_the_shipped_file_loads_from_anywhere(tmp_path):
    copy = tmp_path / "mine.yaml"
    copy.write_text(yaml.safe_dump(yaml.safe_load(voice_mapping.DEFAULT_PATH.read_text())))
    assert set(voice_mapping.load(copy).forms) == set(voice_mapping.load().forms)
