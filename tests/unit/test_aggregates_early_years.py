"""Early years communication: the 2-year review beside EYFSP outcomes, by area, FSM and SEN."""

from __future__ import annotations

import datetime as dt

from streams.aggregates import cellstore
from streams.aggregates import early_years_communication as ey
from tests.unit.test_aggregates_engine import key, shared

CHILD = "c" * 32
MARCH = dt.datetime(2023, 3, 10, tzinfo=dt.UTC)


def review(zone="BELOW", by="PARENT", concerns=("TALKING",), referral="SALT"):
    def area(z):
        return {"score": 30.0, "zone": z}

    return shared(
        "health.development_review_completed",
        CHILD,
        "h" * 32,
        when=MARCH,
        review_date="2023-03",
        communication=area(zone),
        parent_concerns=list(concerns),
        concern_raised_by=by,
        onward_referral=referral,
    )


def eyfsp(cl=True, gld=False, year="2025/26"):
    outcomes = [
        {"elg": f"ELG{i:02d}", "outcome": "EXPECTED" if cl or i > 2 else "EMERGING"}
        for i in range(1, 18)
    ]
    return shared(
        "education.eyfsp_assessed",
        CHILD,
        "y" * 32,
        academic_year=year,
        elg_outcomes=outcomes,
        gld=gld,
    )


def comment(quotes=True, when=MARCH):
    return shared(
        "health.parent_comment_recorded",
        CHILD,
        "k" * 32,
        when=when,
        author_role="PARENT_CARER",
        text="[redacted]" if quotes else None,
        consent_for_reports={"strategic_reporting": True, "verbatim_quotes": quotes},
    )


def fsm(eligible):
    return shared("education.fsm_eligibility_changed", CHILD, "f" * 32, eligible=eligible)


def sen(provision, month="2025-01"):
    return shared(
        "education.sen_status_changed",
        CHILD,
        "s" * 32,
        sen_provision=provision,
        effective_date=month,
    )


def cells(*messages):
    store = cellstore.recompute(
        ey.SPEC, [(m["share"]["event_type"], m) for m in messages], key(ey.SPEC)
    )
    return {k: next(iter(v.values())) for k, v in store.members().items()}


def test_the_review_shows_the_asq3_result_beside_what_the_family_reported():
    out = cells(review(), comment())
    values = out["reviews|2023|UNKNOWN"]
    quotes = values.pop("_s")
    assert values == {
        "n": 1,
        "below": 1,
        "by_parent": 1,
        "salt": 1,
        "referred": 1,
        "talking": 1,
        "comment": 1,
    }
    assert [q["t"] for q in quotes] == ["[redacted]"]


def test_a_comment_without_consent_to_quotes_counts_but_is_not_quoted():
    values = cells(review(), comment(quotes=False))["reviews|2023|UNKNOWN"]
    assert values["comment"] == 1 and "_s" not in values


def test_a_comment_made_long_after_the_review_is_not_the_familys_comment_on_it():
    late = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    assert "comment" not in cells(review(), comment(when=late))["reviews|2023|UNKNOWN"]


def test_a_practitioner_concern_is_counted_as_the_practitioners():
    values = cells(review(zone="ABOVE", by="PRACTITIONER", concerns=(), referral=None))
    assert values["reviews|2023|UNKNOWN"] == {"n": 1, "by_prac": 1}


def test_the_same_childs_eyfsp_is_split_by_what_the_review_found():
    out = cells(review(), eyfsp(cl=False, gld=False), fsm(True), sen("K"))
    assert out["outcomes_by_area|2025/26|UNKNOWN|BELOW"] == {"n": 1, "talking": 1}
    assert out["outcomes_by_fsm|2025/26|FSM|BELOW"] == {"n": 1, "talking": 1}
    assert out["outcomes_by_sen|2025/26|SEN_SUPPORT|BELOW"] == {"n": 1, "talking": 1}
    assert "outcomes_by_sen|2025/26|ALL|ALL" in out


def test_children_without_a_shared_review_are_shown_as_such():
    out = cells(eyfsp(cl=True, gld=True))
    assert out["outcomes_by_fsm|2025/26|UNKNOWN|NO_REVIEW"] == {"n": 1, "cl": 1, "gld": 1}


def test_the_latest_sen_status_applies():
    out = cells(
        eyfsp(),
        sen("K", "2024-01"),
        shared(
            "education.sen_status_changed",
            CHILD,
            "t" * 32,
            sen_provision="N",
            effective_date="2025-02",
        ),
    )
    assert "outcomes_by_sen|2025/26|NO_SEN|NO_REVIEW" in out
