"""The synthetic LA beyond people, contacts and referrals: what follows a referral, children
looked after, care leavers, early help, voice, preferences, and the bad rows made on purpose."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select

from deploy.synth.case_management import (
    TABLES,
    SynthOptions,
    copy_database,
    write_case_management_db,
)


def _rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


# --------------------------------------------------------------------------- social care

BIGGER = SynthOptions(children=4000, seed=21)


@pytest.fixture(scope="module")
def la(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('la') / 'la.db'}"
    summary = write_case_management_db(url, BIGGER)
    engine = create_engine(url)
    found = {table.name: _rows(engine, table) for table in TABLES}
    engine.dispose()
    return {"rows": found, "summary": summary, "url": url}


def test_every_ssd_table_is_filled(la: dict[str, Any]) -> None:
    assert {name for name, rows in la["rows"].items() if not rows} == set()


def test_bad_rows_are_a_small_share_and_never_a_referral_or_its_child(la: dict[str, Any]) -> None:
    bad = la["summary"].bad
    touched = Counter(table for table, _, _ in bad)
    for table, n in touched.items():  # about 0.5% of the rows of each table made bad
        # (people and form answers are made bad per person and per form, not per row)
        per_row = table not in ("ssd_person", "ssd_linked_identifiers", "ssd_form_answers")
        if per_row and len(la["rows"][table]) > 400:
            assert 0.001 < n / len(la["rows"][table]) < 0.02, table
    assert {rule for _, _, rule in bad} >= {"dates.order", "nhs_number.check"}
    assert any(rule.endswith(".code_list") for _, _, rule in bad)
    assert "ssd_cin_episodes" not in touched
    referred = {r["cine_person_id"] for r in la["rows"]["ssd_cin_episodes"]}
    assert not {key for table, key, _ in bad if table == "ssd_person"} & referred


def test_what_follows_a_referral_follows_its_outcome_flags(la: dict[str, Any]) -> None:
    rows = la["rows"]
    dead = {p["pers_person_id"] for p in rows["ssd_person"] if p["pers_death_date"]}
    assessed = {a["cina_referral_id"] for a in rows["ssd_cin_assessments"]}
    enquired = {s["s47e_referral_id"] for s in rows["ssd_s47_enquiry"]}
    for r in rows["ssd_cin_episodes"]:
        flags = json.loads(r["cine_referral_outcome_json"])
        if r["cine_person_id"] in dead or r["cine_referral_nfa"] == "Y":
            continue
        assert (r["cine_referral_id"] in assessed) == (flags["SINGLE_ASSESSMENT_FLAG"] == "Y")
        assert (r["cine_referral_id"] in enquired) == (flags["STRATEGY_DISCUSSION_FLAG"] == "Y")
    factors = [
        json.loads(f["cinf_assessment_factors_json"]) for f in rows["ssd_assessment_factors"]
    ]
    assert all(f == ["21"] or "21" not in f for f in factors)


def test_national_shapes_neglect_and_emotional_abuse_lead_foster_care_most_children_speak(
    la: dict[str, Any],
) -> None:
    rows = la["rows"]
    categories = Counter(p["cppl_cp_plan_initial_category"] for p in rows["ssd_cp_plans"])
    assert categories["NEG"] + categories["EMO"] > 0.7 * sum(categories.values())
    places = Counter(p["clap_cla_placement_type"][0] for p in rows["ssd_cla_placement"])
    assert places["U"] > 0.45 * sum(places.values())
    codes_ = Counter(r["clar_cla_review_participation"] for r in rows["ssd_cla_reviews"])
    codes_.pop(None, None)
    assert codes_.most_common(1)[0][0] in ("PN1", "PN0")


def test_care_leavers_are_17_to_21_with_six_monthly_reviews_rated_by_both(
    la: dict[str, Any],
) -> None:
    rows = la["rows"]
    dob = {p["pers_person_id"]: p["pers_dob"] for p in rows["ssd_person"]}
    leavers = rows["ssd_care_leavers"]
    assert leavers
    assert {_age_on(dob[c["clea_person_id"]], BIGGER.end) for c in leavers} <= set(range(17, 22))
    by_person: dict[str, list[date]] = {}
    for r in rows["ssd_pathway_plan_reviews"]:
        by_person.setdefault(r["ppre_person_id"], []).append(r["ppre_review_date"])
    gaps = [
        (b - a).days
        for days in by_person.values()
        for a, b in zip(sorted(days), sorted(days)[1:], strict=False)
    ]
    assert gaps and all(168 <= g <= 196 for g in gaps)
    pairs = [
        (d["ppdo_young_person_rating"], d["ppdo_adviser_rating"])
        for d in rows["ssd_pathway_plan_domains"]
        if d["ppdo_young_person_rating"] is not None
    ]
    assert all(0 <= a <= 10 and 0 <= b <= 10 for a, b in pairs)
    assert _correlation(pairs) > 0.4  # they broadly agree
    assert sum(a == b for a, b in pairs) < 0.5 * len(pairs)  # but differ


def _correlation(pairs: list[tuple[int, int]]) -> float:
    n = len(pairs)
    ma, mb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    cov = sum((a - ma) * (b - mb) for a, b in pairs)
    va = sum((a - ma) ** 2 for a, _ in pairs) ** 0.5
    vb = sum((b - mb) ** 2 for _, b in pairs) ** 0.5
    return cov / (va * vb)


def test_early_help_families_come_back_step_up_and_leave_voice_notes(la: dict[str, Any]) -> None:
    rows = la["rows"]
    episodes = rows["ssd_early_help_episodes"]
    by_person: dict[str, list[dict[str, Any]]] = {}
    for e in episodes:
        by_person.setdefault(e["earl_person_id"], []).append(e)
    came_back = sum(
        1
        for eps in by_person.values()
        for a in eps
        for b in eps
        if a["earl_episode_end_date"]
        and 0 < (b["earl_episode_start_date"] - a["earl_episode_end_date"]).days <= 365
    )
    assert came_back > 0
    stepped = {
        e["earl_person_id"]: e["earl_episode_end_date"]
        for e in episodes
        if e["earl_episode_end_reason"] == "STEP_UP_CSC"
    }
    from_early_help = [
        r
        for r in rows["ssd_cin_episodes"]
        if r["cine_referral_source_code"] == "5D" and r["cine_person_id"] in stepped
    ]
    assert from_early_help
    notes = {
        a["foan_answer"]
        for a in rows["ssd_form_answers"]
        if a["foan_question_code"] == "VNReferralId"
    }
    ids = {e["earl_episode_id"] for e in episodes}
    assert notes and notes <= ids
    assert 0.3 < len(notes) / len(ids) < 0.8
    assert all(json.loads(e["earl_family_needs_json"]) for e in episodes)


def test_voice_is_template_wording_with_consent_flags(la: dict[str, Any]) -> None:
    answers = la["rows"]["ssd_form_answers"]
    views = [a["foan_answer"] for a in answers if a["foan_question_code"] == "LACChildViews"]
    assert views
    # no dates, names of places or numbers, but phone numbers from Ofcom's drama range
    drama = re.compile(r"01632 960\d{3}")
    assert all(not re.search(r"\d", drama.sub("", v)) for v in views)
    assert any(drama.search(v) for v in views)  # a few name someone with a number to ring
    consent = Counter(
        a["foan_answer"] for a in answers if a["foan_question_code"].endswith("ConsentReports")
    )
    assert set(consent) == {"Y", "N"}


def test_sharing_preferences_include_withdrawals_competent_children_and_overrides(
    la: dict[str, Any],
) -> None:
    prefs = la["rows"]["ssd_sharing_preferences"]
    assert any(p["shpr_withdrawn_at"] for p in prefs)
    assert any(p["shpr_competence_assessed"] == "GILLICK_COMPETENT" for p in prefs)
    assert any(p["shpr_override_reason"] for p in prefs) or len(prefs) < 150
    assert {p["shpr_decision"] for p in prefs} == {"ALLOW", "OBJECT"}


def test_a_synthetic_la_can_be_copied_table_for_table(la: dict[str, Any], tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    counts = copy_database(la["url"], target)
    assert counts == {name: len(rows) for name, rows in la["rows"].items()}
