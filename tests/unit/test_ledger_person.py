"""Finding a child's ledger entries from an identifier, and telling them in plain English."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from schemas.topics import SOURCE_EVENTS
from streams.identity.registry import IdentityRegistry
from streams.identity.tokens import IDENTITY_PURPOSE
from streams.ledger.person import (
    IdentifierError,
    Register,
    ledger_refs,
    parse_identifier,
    person_keys,
)
from streams.ledger.story import EVENT_WORDS, story
from streams.pseudonyms import Pseudonymiser
from tests.integration.harness import REPO

P = Pseudonymiser(b"k" * 40)
NHS = "9990000018"
UPN = "W820200124001"
WHEN = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
DATA = REPO / "policies" / "data"
RECIPIENTS = yaml.safe_load((DATA / "recipients.yaml").read_text())["recipients"]
PURPOSES = yaml.safe_load((DATA / "purposes.yaml").read_text())["purposes"]


def test_identifiers_are_recognised_by_shape_and_never_labelled_in_full():
    nhs = parse_identifier("999 000 0018")
    assert (nhs.kinds, nhs.value) == (("nhs",), NHS)
    upn = parse_identifier(UPN.lower())
    assert upn.kinds == ("upn", "former_upn") and upn.value == UPN
    la = parse_identifier("999:C0000001")
    assert (la.kinds, la.value) == (("la",), "999:C0000001")
    ref = parse_identifier("ab" * 16)
    assert ref.is_pseudonym
    for ident, full in ((nhs, NHS), (upn, UPN), (la, "C0000001"), (ref, "ab" * 16)):
        assert full not in ident.label


def test_an_invalid_nhs_number_is_refused_without_echoing_it():
    with pytest.raises(IdentifierError) as err:
        parse_identifier("9990000019")
    assert "mod-11" in str(err.value) and "9990000019" not in str(err.value)
    with pytest.raises(IdentifierError):
        parse_identifier("hello")


def register_with(*events: dict[str, str]) -> Register:
    """The register after linking each event's identifiers (kind -> value)."""
    links: dict = {}
    persons: dict = {}
    registry = IdentityRegistry(links, persons)
    for ids in events:
        registry.resolve({k: P.pseudonym(IDENTITY_PURPOSE, k, v) for k, v in ids.items()})
    return Register(links, persons)


def test_a_child_is_found_by_any_linked_identifier_and_merged_records_count():
    # Seen apart by health (NHS number) and school (UPN), then linked by social care.
    register = register_with({"nhs": NHS}, {"upn": UPN}, {"la": "999:C1", "nhs": NHS, "upn": UPN})
    by_nhs = person_keys(register, P, parse_identifier(NHS))
    by_upn = person_keys(register, P, parse_identifier(UPN))
    by_la = person_keys(register, P, parse_identifier("999:C1"))
    assert by_nhs == by_upn == by_la and len(by_nhs) == 2
    assert ledger_refs(P, by_nhs) == {P.pseudonym("ledger", "person", k) for k in by_nhs}
    assert person_keys(register, P, parse_identifier("999:C2")) == set()


def row(recipient, purpose, outcome, **changes):
    r = {
        "event_id": "e1e1e1e1-0000-0000-0000-000000000001",
        "event_type": "case_management.referral",
        "event_time": WHEN,
        "recipient": recipient,
        "purpose": purpose,
        "outcome": outcome,
        "reason": "the reason the policy gave",
        "lawful_basis": "UK GDPR Art. 6(1)(e) public task",
        "fields_released": [],
        "fields_transformed": [],
        "fields_withheld": [],
        "policy_revision": "abc123",
        "decided_at": WHEN,
    }
    r.update(changes)
    return r


def test_the_story_says_to_whom_for_what_how_and_why():
    rows = [
        row(
            "la_performance_team",
            "strategic_reporting",
            "SHARED",
            fields_released=["referral_source"],
            fields_transformed=[
                {"field": "referral_date", "transform": "month"},
                {"field": "record_id", "transform": "pseudonymise"},
            ],
            fields_withheld=["referral_team"],
        ),
        row("dfe", "statutory_return", "SHARED", fields_released=["primary_need"]),
        row("university_research_unit", "research", "NOT_SHARED", reason="no consent"),
    ]
    text = "\n".join(story(rows, "NHS number *******018", RECIPIENTS, PURPOSES))
    assert "a referral to children's social care" in text
    assert "SHARED WITH CHANGES with LA performance and intelligence team" in text
    assert "Shortened to the month: referral date" in text
    assert "Replaced by a code that does not identify the child: record id" in text
    assert "Not passed on: referral team" in text
    assert "SHARED with Department for Education data collections" in text
    assert "NOT SHARED with University children's research unit, for research" in text
    assert "Why: no consent" in text and "Lawful basis: UK GDPR" in text
    assert "3 decisions about 1 record: 2 shared (1 of them with changes), 1 not shared" in text
    assert NHS not in text


def test_no_entries_says_so():
    assert "No sharing decisions" in "\n".join(story([], "x", RECIPIENTS, PURPOSES))


def test_every_source_event_type_has_words_for_the_child():
    assert {f"{d}.{e}" for d, e in SOURCE_EVENTS} <= set(EVENT_WORDS)
