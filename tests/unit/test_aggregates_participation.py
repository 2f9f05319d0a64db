"""Participation in reviews (PN codes) and whose voice is missing."""

from __future__ import annotations

from streams.aggregates import cellstore
from streams.aggregates import participation as pa
from tests.unit.test_aggregates_engine import key, shared

CHILD = "c" * 32


def registered(dob="2015-06"):
    return shared("case_management.person_registered", CHILD, "p" * 32, dob=dob, postcode="ZZ1")


def cla_review(month, pn, record="r" * 32, cancelled=False):
    return shared(
        "case_management.cla_review",
        CHILD,
        record,
        review_date=month,
        participation=pn,
        cancelled=cancelled,
    )


def statement(month, context="CLA_REVIEW", role="CHILD"):
    return shared(
        "voice.statement_recorded",
        CHILD,
        "s" * 32,
        expressed_at=month,
        context=context,
        author_role=role,
    )


def cells(*messages):
    store = cellstore.recompute(
        pa.SPEC, [(m["share"]["event_type"], m) for m in messages], key(pa.SPEC)
    )
    return {k: next(iter(v.values())) for k, v in store.members().items()}


def test_pn_codes_are_counted_by_review_type_and_age_band():
    out = cells(
        registered(), cla_review("2025-02", "PN1", "a" * 32), cla_review("2025-04", "PN7", "b" * 32)
    )
    assert out["reviews|2025-H1|CLA_REVIEW|5-9"] == {
        "n": 2,
        "PN1": 1,
        "PN7": 1,
        "n4": 2,
        "took_part": 1,
    }
    assert out["reviews|2025-H1|ALL|ALL"]["n"] == 2


def test_under_fours_are_left_out_of_the_rates_and_cancelled_reviews_out_of_everything():
    out = cells(registered(dob="2023-01"), cla_review("2025-02", "PN0", "a" * 32))
    assert out["reviews|2025-H1|CLA_REVIEW|1-4"] == {"n": 1, "PN0": 1}
    assert not any(
        k.startswith("reviews") for k in cells(cla_review("2025-02", None, cancelled=True))
    )


def test_a_review_without_the_childs_view_is_a_missing_voice():
    out = cells(registered(), cla_review("2025-02", "PN7"))
    assert out["missing_voice|2025-H1|LOOKED_AFTER|5-9"] == {"n": 1, "silent": 1}


def test_a_statement_in_the_same_context_within_a_month_is_the_childs_voice():
    out = cells(registered(), cla_review("2025-02", "PN7"), statement("2025-03"))
    assert out["missing_voice|2025-H1|LOOKED_AFTER|5-9"] == {"n": 1, "voice": 1}
    other = cells(
        registered(), cla_review("2025-02", "PN7"), statement("2025-03", context="ASSESSMENT")
    )
    assert other["missing_voice|2025-H1|LOOKED_AFTER|5-9"] == {"n": 1, "silent": 1}
    parent = cells(
        registered(), cla_review("2025-02", "PN7"), statement("2025-02", role="PARENT_CARER")
    )
    assert parent["missing_voice|2025-H1|LOOKED_AFTER|5-9"] == {"n": 1, "silent": 1}


def test_for_early_help_a_familys_voice_note_is_its_voice():
    out = cells(
        registered(),
        shared("case_management.early_help_episode_started", CHILD, "e" * 32, start_date="2025-02"),
        shared("voice.voice_note_recorded", CHILD, "n" * 32, recorded_at="2025-02"),
    )
    assert out["missing_voice|2025-H1|EARLY_HELP|5-9"] == {"n": 1, "voice": 1}


def test_a_care_leavers_own_ratings_are_their_voice():
    review = shared(
        "case_management.pathway_plan_reviewed",
        CHILD,
        "v" * 32,
        review_date="2025-02",
        domains=[{"domain": "FINANCE", "young_person_rating": 4, "adviser_rating": 5}],
    )
    out = cells(registered(dob="2006-01"), review)
    assert out["missing_voice|2025-H1|CARE_LEAVERS|16+"] == {"n": 1, "voice": 1}
