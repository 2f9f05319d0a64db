"""The information map: categories of information, who receives them, what never reaches."""

from __future__ import annotations

import dataclasses
import datetime as dt

from schemas.codec import Codec, RawField
from streams.aggregates import cellstore, engine
from streams.aggregates import information_map as im
from streams.aggregates.synthetic import Synth, ledger_entries
from tests.unit.test_aggregates_engine import key

T = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def entry(event_id, purpose, outcome="SHARED", transformed=(), withheld=(), reason="ok"):
    return {
        "event_id": event_id,
        "event_type": "voice.statement_recorded",
        "event_time": T,
        "subject_ref": None,
        "recipient": "r",
        "purpose": purpose,
        "outcome": outcome,
        "reason": reason,
        "lawful_basis": None,
        "fields_transformed": [{"field": f, "transform": t} for f, t in transformed],
        "fields_withheld": list(withheld),
        "policy_revision": "p",
        "decided_at": T,
        "share_topic": None,
    }


def cells(*entries):
    store = cellstore.recompute(
        im.SPEC, [("platform.ledger_entry", e) for e in entries], key(im.SPEC)
    )
    return store.counts(), store


def test_fields_fall_into_categories_and_voice_is_marked():
    assert im.category("voice.statement_recorded", "text") == "own_words"
    assert im.category("voice.voice_note_recorded", "items[].text") == "own_words"
    assert im.category("voice.statement_recorded", "themes") == "views_and_scores"
    assert im.category("voice.statement_recorded", "consent_for_reports") == "wishes_about_sharing"
    assert im.category("case_management.cla_review", "participation") == "views_and_scores"
    assert im.category("case_management.cla_review", "review_id") == "identifiers"
    assert im.category("case_management.cla_review", "review_date") == "dates"
    assert im.category("case_management.person_registered", "postcode") == "location"
    assert im.category("case_management.referral", "referral_source") == "details"
    assert im.voice("own_words") == "yes" and im.voice("dates") == "no"


def test_text_withheld_for_want_of_consent_never_reaches_strategic_reporting_with_the_reason():
    e1 = entry(
        "e1",
        "strategic_reporting",
        transformed=[("themes", "keep")],
        withheld=["text"],
        reason="allowed; free text withheld: verbatim quotes not agreed",
    )
    e2 = entry("e1", "safeguarding", transformed=[("themes", "keep"), ("text", "keep")])
    counts, store = cells(e1, e2)
    s = store.summaries()["collected|voice.statement_recorded|own_words|yes"]
    assert s.value("n") == 1 and s.value("sr") == 0
    notes = im.COLLECTED.annotate(s)
    assert notes["reaches_strategic_reporting"] == "never"
    assert notes["reason_not_in_strategic_reporting"] == im.NO_QUOTES
    assert counts["received|voice.statement_recorded|own_words|yes|safeguarding"] == 1
    assert "received|voice.statement_recorded|own_words|yes|strategic_reporting" not in counts


def test_a_redecided_event_replaces_its_earlier_decision():
    first = entry(
        "e1", "strategic_reporting", outcome="NOT_SHARED", withheld=["text", "themes"], reason="no"
    )
    again = entry("e1", "strategic_reporting", transformed=[("themes", "keep")], withheld=["text"])
    counts, store = cells(first, again)
    assert (
        store.summaries()["collected|voice.statement_recorded|views_and_scores|yes"].value("sr")
        == 1
    )
    assert counts["collected|voice.statement_recorded|views_and_scores|yes"] == 1


def test_a_denied_event_gives_the_policys_reason():
    denied = entry(
        "e2",
        "strategic_reporting",
        outcome="NOT_SHARED",
        withheld=["themes"],
        reason="the person objects; x",
    )
    _, store = cells(denied)
    notes = im.COLLECTED.annotate(
        store.summaries()["collected|voice.statement_recorded|views_and_scores|yes"]
    )
    assert notes["reason_not_in_strategic_reporting"] == "the person objects"


def test_the_map_of_a_synthetic_la_follows_the_policy_data():
    events = Synth(seed=2).population(150)
    store = cellstore.recompute(im.SPEC, list(ledger_entries(events)), key(im.SPEC))
    summaries = store.summaries()
    own_words = summaries["collected|health.parent_comment_recorded|own_words|yes"]
    assert 0 < own_words.value("sr") < own_words.value("n")  # redacted only with consent
    names = summaries["collected|case_management.person_registered|identifiers|no"]
    assert names.value("n") > 0 and names.value("sr") == 0  # names never reach it


def test_contributions_remembered_per_shape_equal_those_worked_out_afresh():
    """Events alike but for their reason, outcome or fields must not share remembered cells."""
    plain = dataclasses.replace(im.SPEC, shape=None)
    engine._shapes(im.SPEC).clear()  # what earlier tests left
    entries = [e for _, e in ledger_entries(Synth(seed=6).population(60))]
    for i, reason in enumerate(["the person objects; x", "no consent; y", "no"] * 3):
        withheld = ["themes"] if i % 2 else ["text", "themes"]
        entries.append(
            entry(f"d{i}", "strategic_reporting", "NOT_SHARED", withheld=withheld, reason=reason)
        )
        entries.append(entry(f"d{i}", "safeguarding", transformed=[("themes", "keep")]))
    states: dict = {}
    for e in entries:
        states[e["event_id"]] = engine.apply(im.SPEC, states.get(e["event_id"]), "ledger", e)
    for subject, state in states.items():
        remembered = engine.contributions(im.SPEC, subject, state)
        assert remembered == engine.contributions(plain, subject, state), subject
    assert len(engine._shapes(im.SPEC)) < len(states) / 2  # most events are alike


def test_categories_remembered_per_list_of_fields_follow_each_fields_transform():
    """An entry's categories are worked out once per list of (field, transform) and
    withheld fields: a list that differs only in one transform is another list."""
    kept = entry("e1", "safeguarding", transformed=[("themes", "keep"), ("text", "keep")])
    dropped = entry("e2", "safeguarding", transformed=[("themes", "keep"), ("text", "drop")])
    withheld = entry("e3", "safeguarding", transformed=[("themes", "keep")], withheld=["text"])
    for _ in range(2):  # the second time from what was remembered
        assert im.fact("ledger", kept)["rel"] == ["own_words", "views_and_scores"]
        assert im.fact("ledger", dropped)["rel"] == ["views_and_scores"]
        assert im.fact("ledger", dropped)["col"] == ["own_words", "views_and_scores"]
        assert im.fact("ledger", withheld)["rel"] == ["views_and_scores"]
        assert im.fact("ledger", withheld)["col"] == ["own_words", "views_and_scores"]


RAW = Codec(raw=im.SPEC.raw_fields)


def as_intake_decodes(e):
    """The entry as the intake decodes it: its field lists left raw (RawField)."""
    _, record = RAW.decode(Codec().encode("platform.ledger_entry", e))
    assert isinstance(record["fields_transformed"], RawField)
    return record


def test_field_lists_left_raw_give_the_same_facts_and_cells_as_decoded_ones():
    im._known_sets("case_management.referral").clear()  # nothing remembered from earlier tests
    entries = [e for _, e in ledger_entries(Synth(seed=8).population(80))]
    entries.append(entry("d1", "strategic_reporting", "NOT_SHARED", withheld=["text"]))
    for e in entries:
        assert im.fact("ledger", as_intake_decodes(e)) == im.fact("ledger", e)
    full = cellstore.recompute(
        im.SPEC, [("platform.ledger_entry", e) for e in entries], key(im.SPEC)
    )
    raw = [("platform.ledger_entry", as_intake_decodes(e)) for e in entries]
    assert cellstore.recompute(im.SPEC, raw, key(im.SPEC)).counts() == full.counts()


def test_a_raw_field_list_that_is_not_utf8_rejects_its_entry_with_the_rule():
    good = entry("g1", "safeguarding", transformed=[("themes", "keep")], withheld=["zz-new"])
    data = bytearray(Codec().encode("platform.ledger_entry", good))
    data[data.index(b"zz-new")] = 0xFF
    _, record = RAW.decode(bytes(data))  # the intake does not decode the lists
    done = engine.step(im.SPEC, {}.get, [(0, "ledger", record, 0)])
    [(index, err)] = done.rejected
    assert index == 0 and not done.writes
    assert (err.rule, err.field) == ("avro.non_utf8_text", "fields_withheld")
