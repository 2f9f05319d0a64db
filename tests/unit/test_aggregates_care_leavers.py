"""Care leavers' own measures: ratings by domain, the gap, statements, 17-21 outcomes."""

from __future__ import annotations

import datetime as dt

from streams.aggregates import care_leavers as cl
from streams.aggregates import cellstore
from streams.aggregates.publication import ALL
from tests.unit.test_aggregates_engine import key, shared

PERSON = "a" * 32


def review(month, ratings, record="r" * 32, person=PERSON):
    domains = [
        {"domain": d, "status": "MET", "young_person_rating": yp, "adviser_rating": pa}
        for d, (yp, pa) in ratings.items()
    ]
    return shared(
        "case_management.pathway_plan_reviewed",
        person,
        record,
        when=dt.datetime(int(month[:4]), int(month[5:]), 2, tzinfo=dt.UTC),
        review_date=month,
        domains=domains,
    )


def registered(dob="2006-05", area="ZZ1", person=PERSON):
    return shared("case_management.person_registered", person, "p" * 32, dob=dob, postcode=area)


def statement(month, text="[redacted]", quotes=True, themes=("money",), role="YOUNG_PERSON"):
    return shared(
        "voice.statement_recorded",
        PERSON,
        "s" * 32,
        author_role=role,
        context="PATHWAY_PLAN",
        expressed_at=month,
        text=text if quotes else None,
        themes=list(themes),
        items=[],
        consent_for_reports={"strategic_reporting": True, "verbatim_quotes": quotes},
    )


def cells(*messages):
    store = cellstore.recompute(
        cl.SPEC, [(m["share"]["event_type"], m) for m in messages], key(cl.SPEC)
    )
    return {k: next(iter(v.values())) for k, v in store.members().items()}


def test_each_domain_gets_both_views_bands_and_the_gap():
    out = cells(registered(), review("2025-02", {"FINANCE": (3, 8), "HEALTH_WELLBEING": (9, None)}))
    finance = out["domain_ratings|2025-H1|ZZ1|FINANCE"]
    assert finance == {
        "n": 1,
        "young_person_n": 1,
        "young_person_sum": 3,
        "young_person_0_3": 1,
        "adviser_n": 1,
        "adviser_sum": 8,
        "adviser_7_10": 1,
        "pair_n": 1,
        "gap_sum": -5,
        "yp_lower": 1,
    }
    health = out["domain_ratings|2025-H1|ZZ1|HEALTH_WELLBEING"]
    assert "pair_n" not in health and health["young_person_7_10"] == 1
    assert out["domain_ratings|2025-H1|ALL|FINANCE"] == finance  # the area total holds it too
    overall = out["domain_ratings|2025-H1|ZZ1|ALL_DOMAINS"]
    assert overall["young_person_sum"] == 6 and overall["adviser_sum"] == 8


def test_a_young_person_counts_once_per_period_at_the_latest_review():
    out = cells(
        registered(),
        review("2025-01", {"FINANCE": (2, 2)}, record="x" * 32),
        review("2025-05", {"FINANCE": (9, 9)}, record="y" * 32),
        review("2025-08", {"FINANCE": (5, 5)}, record="z" * 32),
    )
    assert out["domain_ratings|2025-H1|ZZ1|FINANCE"]["young_person_sum"] == 9
    assert out["domain_ratings|2025-H2|ZZ1|FINANCE"]["young_person_sum"] == 5


def test_statements_need_consent_to_quotes_and_attach_to_their_domain():
    out = cells(
        registered(),
        review("2025-02", {"FINANCE": (3, 8), "ACCOMMODATION": (5, 5)}),
        statement("2025-03", themes=("money",)),
    )
    quotes = out["domain_ratings|2025-H1|ZZ1|FINANCE"]["_s"]
    assert [q["t"] for q in quotes] == ["[redacted]"] and quotes[0]["r"] == "YOUNG_PERSON"
    assert "_s" not in out["domain_ratings|2025-H1|ZZ1|ACCOMMODATION"]
    refused = cells(
        registered(), review("2025-02", {"FINANCE": (3, 8)}), statement("2025-03", quotes=False)
    )
    assert "_s" not in refused["domain_ratings|2025-H1|ZZ1|FINANCE"]
    adviser = cells(
        registered(),
        review("2025-02", {"FINANCE": (3, 8)}),
        statement("2025-03", role="PRACTITIONER"),
    )
    assert "_s" not in adviser["domain_ratings|2025-H1|ZZ1|FINANCE"]


def test_statements_without_a_domain_go_with_all_domains():
    out = cells(
        registered(), review("2025-02", {"FINANCE": (3, 8)}), statement("2025-02", themes=())
    )
    assert out["domain_ratings|2025-H1|ZZ1|ALL_DOMAINS"]["_s"]


def contact(month, in_touch="YES", activity="ACT_F2", suitable=True):
    return shared(
        "case_management.care_leaver_contact",
        PERSON,
        "c" * 32,
        contact_date=month,
        in_touch=in_touch,
        activity=activity,
        accommodation_suitable=suitable,
    )


def test_care_leavers_aged_17_to_21_are_counted_in_touch_eet_and_suitably_housed():
    out = cells(registered(dob="2006-05"), contact("2025-06"))  # 19
    assert out["contact_outcomes|2025-H1|ZZ1|19-21"] == {"n": 1, "in_touch": 1, "eet": 1, "suit": 1}
    assert out[f"contact_outcomes|2025-H1|{ALL}|{ALL}"]["n"] == 1
    neet = cells(registered(dob="2008-01"), contact("2025-06", activity="ACT_G5", suitable=False))
    assert neet["contact_outcomes|2025-H1|ZZ1|17-18"] == {"n": 1, "in_touch": 1}


def test_outside_17_to_21_or_with_no_date_of_birth_no_outcome_is_counted():
    assert not any(
        k.startswith("contact_outcomes")
        for k in cells(registered(dob="2000-01"), contact("2025-06"))
    )
    assert not any(k.startswith("contact_outcomes") for k in cells(contact("2025-06")))


def test_without_a_district_the_area_is_unknown():
    out = cells(review("2025-02", {"FINANCE": (3, 8)}))
    assert "domain_ratings|2025-H1|UNKNOWN|FINANCE" in out
