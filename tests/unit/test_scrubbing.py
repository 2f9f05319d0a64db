"""The `scrub` transform: each kind of identifying detail replaced, ordinary words kept."""

from __future__ import annotations

import pytest

from schemas.errors import ContractError
from schemas.identifiers import synthetic_nhs_number, synthetic_upn
from streams.pseudonyms import Pseudonymiser
from streams.scrubbing import load_names, scrub
from streams.transforms import TRANSFORMS, apply_transforms

P = Pseudonymiser(b"k" * 32)
NHS = synthetic_nhs_number(4321)
UPN = synthetic_upn("999", 2001, 20, 7)


@pytest.mark.parametrize(
    "text,marker,gone",
    [
        (f"my number is {NHS} ok", "[NHS number]", NHS),
        (f"my number is {NHS[:3]} {NHS[3:6]} {NHS[6:]} ok", "[NHS number]", NHS[6:]),
        (f"my number is {NHS[:3]}-{NHS[3:6]}-{NHS[6:]} ok", "[NHS number]", NHS[6:]),
        (f"pupil {UPN} moved", "[UPN]", UPN),
        (f"pupil {UPN.lower()} moved", "[UPN]", UPN[1:]),
        (f"old pupil number {UPN[:12]}A moved", "[UPN]", UPN[1:12]),
        ("we live near OL1 3AB now", "[postcode]", "3AB"),
        ("we live near ol13ab now", "[postcode]", "ol13ab"),
        ("we moved to SW1A 1AA last year", "[postcode]", "1AA"),
        ("ring me on 01632 960183 after school", "[phone]", "960183"),
        ("ring me on 01632960183 after school", "[phone]", "960183"),
        ("ring me on 07700 900 123 after school", "[phone]", "900 123"),
        ("ring me on +44 7700 900123 after school", "[phone]", "900123"),
        ("write to sam.jones+home@example.org soon", "[email]", "example.org"),
        ("it was on 12/03/2020 I think", "[date]", "2020"),
        ("it was on 2020-03-12 I think", "[date]", "2020"),
        ("it was on 12.3.20 I think", "[date]", "12.3"),
        ("it was on 12 March 2020 I think", "[date]", "2020"),
        ("it was on 12th March I think", "[date]", "12th"),
        ("it was on 3rd of May 2019 I think", "[date]", "2019"),
        ("it was on March 12, 2020 I think", "[date]", "2020"),
        ("it was on Sept 3 I think", "[date]", "Sept"),
        ("my friend Callum came round", "[name]", "Callum"),
        ("my friend CALLUM came round", "[name]", "CALLUM"),
        ("Callum's dog barks", "[name]", "Callum"),
        ("Mrs Patel-Okafor was kind", "[name]", "Okafor"),
    ],
)
def test_each_identifying_detail_becomes_its_marker(text, marker, gone):
    out = scrub(text)
    assert marker in out
    assert gone not in out
    assert out.split()[-1] == text.split()[-1]  # the words around it are kept


def test_ordinary_words_survive_unchanged():
    words = (
        "I want to learn to drive this year. Help with budgeting would make a difference. "
        "I may go swimming in May with 2 friends; school starts in September 2026, "
        "we had 10 sessions and 3 of them were good. My worker listens to me."
    )
    assert scrub(words) == words


def test_a_name_in_lower_case_is_an_ordinary_word():
    assert scrub("the mason and the baker") == "the mason and the baker"
    assert scrub("Mason and Baker") == "[name] and [name]"


def test_the_names_list_holds_first_names_and_surnames():
    names = load_names()
    assert len(names) > 300
    assert {"callum", "olivia", "smith", "patel"} <= names
    assert "the" not in names and "school" not in names


def test_scrub_is_a_transform_for_top_level_and_nested_text():
    assert "scrub" in TRANSFORMS
    statement = {"text": "Ring Shona on 01632 960771 please", "themes": ["home"]}
    out = apply_transforms(statement, {"text": "scrub", "themes": "keep"}, P, "p")
    assert out.fields["text"] == "Ring [name] on [phone] please"
    assert ("text", "scrub") in out.transformed
    note = {"items": [{"prompt": "A", "text": "Nana Brenda helps"}, {"prompt": "B", "text": None}]}
    out = apply_transforms(note, {"items": "keep", "items[].text": "scrub"}, P, "p")
    assert [i["text"] for i in out.fields["items"]] == ["Nana [name] helps", None]
    assert note["items"][0]["text"] == "Nana Brenda helps"  # the source record is untouched


def test_scrub_refuses_what_is_not_text():
    with pytest.raises(ContractError):
        apply_transforms({"n": 3}, {"n": "scrub"}, P, "p")
