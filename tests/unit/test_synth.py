"""Tests for the synthetic case-management (SSD) database writer."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from connectors.case_management.ssd import (
    cin_episodes,
    contacts,
    early_help_episodes,
    linked_identifiers,
    person,
)
from deploy.synth import codes
from deploy.synth.case_management import (
    TABLES,
    SynthError,
    SynthOptions,
    SynthSummary,
    write_case_management_db,
)
from schemas.identifiers import is_valid_nhs_number, is_valid_upn

CIN_REFERRAL_SOURCES = {
    "1A",
    "1B",
    "1C",
    "1D",
    "2A",
    "2B",
    "3A",
    "3B",
    "3C",
    "3D",
    "3E",
    "3F",
    "4",
    "5A",
    "5B",
    "5C",
    "5D",
    "6",
    "7",
    "8",
    "9",
    "10",
}
PRIMARY_NEEDS = {f"N{i}" for i in range(10)}
CLOSE_REASONS = {f"RC{i}" for i in range(1, 10)}
DFE_ETHNICITIES = {
    "WBRI",
    "WIRI",
    "WOTH",
    "WIRT",
    "WROM",
    "MWBC",
    "MWBA",
    "MWAS",
    "MOTH",
    "AIND",
    "APKN",
    "ABAN",
    "CHNE",
    "AOTH",
    "BCRB",
    "BAFR",
    "BOTH",
    "OOTH",
    "REFU",
    "NOBT",
}
EARLY_HELP_END_REASONS = {
    "OUTCOMES_MET",
    "STEP_UP_CSC",
    "STEP_DOWN_UNIVERSAL",
    "DISENGAGED",
    "MOVED",
    "OTHER",
}

OPTIONS = SynthOptions(children=600, seed=7)


def _write(tmp_path: Path, name: str, options: SynthOptions) -> tuple[str, SynthSummary]:
    url = f"sqlite:///{tmp_path / name}"
    return url, write_case_management_db(url, options)


def _rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _content_hash(url: str) -> str:
    engine = create_engine(url)
    try:
        digest = hashlib.sha256()
        for table in TABLES:
            digest.update(table.name.encode())
            for row in _rows(engine, table):
                digest.update(repr(sorted(row.items())).encode())
        return digest.hexdigest()
    finally:
        engine.dispose()


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, SynthSummary]]:
    url, summary = _write(tmp_path_factory.mktemp("synth"), "cms.db", OPTIONS)
    engine = create_engine(url)
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="module")
def tables(db: tuple[Engine, SynthSummary]) -> dict[str, list[dict[str, Any]]]:
    engine, _ = db
    return {table.name: _rows(engine, table) for table in TABLES}


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_rows(tmp_path: Path) -> None:
    first, _ = _write(tmp_path, "a.db", OPTIONS)
    second, _ = _write(tmp_path, "b.db", OPTIONS)
    assert _content_hash(first) == _content_hash(second)


def test_different_seed_gives_different_rows(tmp_path: Path) -> None:
    first, _ = _write(tmp_path, "a.db", OPTIONS)
    second, _ = _write(tmp_path, "b.db", SynthOptions(children=OPTIONS.children, seed=8))
    assert _content_hash(first) != _content_hash(second)


# --------------------------------------------------------------------------- identifiers


def test_every_nhs_number_is_synthetic_and_valid_but_the_mistyped_ones_listed(
    db: tuple[Engine, SynthSummary], tables: dict[str, list[dict[str, Any]]]
) -> None:
    mistyped = {key for table, key, _ in db[1].bad if table == person.name}
    in_person = {p["pers_person_id"]: p["pers_common_child_id"] for p in tables[person.name]}
    in_links = [
        link["link_identifier_value"]
        for link in tables[linked_identifiers.name]
        if link["link_identifier_type"] == "NHS Number"
    ]
    held = [n for n in in_person.values() if n is not None]
    assert sorted(held) == sorted(in_links)
    assert all(n.startswith("999") for n in held)
    for pid, n in in_person.items():
        if n is not None:
            assert is_valid_nhs_number(n) == (pid not in mistyped)
    assert len(set(held)) == len(held)


def test_about_two_percent_of_children_have_no_nhs_number(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    missing = sum(p["pers_common_child_id"] is None for p in tables[person.name])
    assert 0 < missing < 0.06 * OPTIONS.children


def test_every_upn_is_valid_unique_and_carries_the_la_code(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    upns = [
        link["link_identifier_value"]
        for link in tables[linked_identifiers.name]
        if link["link_identifier_type"] == "Unique Pupil Number"
    ]
    assert upns
    assert all(is_valid_upn(u) for u in upns)
    assert all(u[1:4] == OPTIONS.la_code and 1000 <= int(u[4:8]) <= 7999 for u in upns)
    assert len(set(upns)) == len(upns)


def _is_child(person_id: str, options: SynthOptions = OPTIONS) -> bool:
    """The first ``children`` people are children; the young people aged 17-21 follow."""
    return int(person_id[1:]) <= options.children


def test_only_school_age_children_have_a_upn(tables: dict[str, list[dict[str, Any]]]) -> None:
    with_upn = {
        link["link_person_id"]
        for link in tables[linked_identifiers.name]
        if link["link_identifier_type"] == "Unique Pupil Number"
    }
    for p in tables[person.name]:
        # young people aged 17-21 were given a UPN at school
        school_age = 4 <= _age_on(p["pers_dob"], OPTIONS.end) <= 21
        assert (p["pers_person_id"] in with_upn) == school_age
        assert p["pers_upn_unknown"] == (None if school_age else "UN1")


def test_la_code_option_reaches_the_upns(tmp_path: Path) -> None:
    url, _ = _write(tmp_path, "la.db", SynthOptions(children=50, la_code="123"))
    engine = create_engine(url)
    query = select(linked_identifiers.c.link_identifier_value).where(
        linked_identifiers.c.link_identifier_type == "Unique Pupil Number"
    )
    with engine.connect() as conn:
        upns = list(conn.execute(query).scalars())
    engine.dispose()
    assert upns
    assert all(u[1:4] == "123" and is_valid_upn(u) for u in upns)


# --------------------------------------------------------------------------- persons


def test_person_fields_use_ssd_codes(tables: dict[str, list[dict[str, Any]]]) -> None:
    people = tables[person.name]
    assert all(re.fullmatch(r"[A-Za-z0-9]{1,20}", p["pers_person_id"]) for p in people)
    assert {p["pers_sex"] for p in people} <= {"F", "M", "U"}
    assert {p["pers_gender"] for p in people} <= {"00", "01", "02", "09"}
    assert {p["pers_ethnicity"] for p in people} <= DFE_ETHNICITIES
    assert {p["pers_send_flag"] for p in people} <= {"Y", "N"}
    ethnicities = [p["pers_ethnicity"] for p in people]
    assert ethnicities.count("WBRI") > len(people) / 2


def test_ages_span_0_to_17_at_the_end_date(tables: dict[str, list[dict[str, Any]]]) -> None:
    people = tables[person.name]
    ages = {_age_on(p["pers_dob"], OPTIONS.end) for p in people if _is_child(p["pers_person_id"])}
    assert ages == set(range(18))
    older = [p for p in people if not _is_child(p["pers_person_id"])]
    assert older, "the LA also knows some young people aged 17-21"
    assert {_age_on(p["pers_dob"], OPTIONS.end) for p in older} <= set(range(17, 22))


# --------------------------------------------------------------------------- episodes


def test_contact_and_referral_sources_are_cin_codes(
    db: tuple[Engine, SynthSummary], tables: dict[str, list[dict[str, Any]]]
) -> None:
    bad = {key for table, key, _ in db[1].bad if table == contacts.name}
    for row in tables[contacts.name]:
        assert (row["cont_contact_source_code"] in CIN_REFERRAL_SOURCES) == (
            row["cont_contact_id"] not in bad
        )
        assert row["cont_contact_source_desc"]
    referrals = tables[cin_episodes.name]
    for row in referrals:
        assert row["cine_referral_source_code"] in CIN_REFERRAL_SOURCES
    sources = [r["cine_referral_source_code"] for r in referrals]
    assert max(set(sources), key=sources.count) == "6"


def test_referral_codes_are_in_the_cin_lists(tables: dict[str, list[dict[str, Any]]]) -> None:
    referrals = tables[cin_episodes.name]
    assert {r["cine_cin_primary_need_code"] for r in referrals} <= PRIMARY_NEEDS
    assert {r["cine_close_reason"] for r in referrals} - {None} <= CLOSE_REASONS
    assert {r["cine_referral_nfa"] for r in referrals} == {"Y", "N"}
    assert len({r["cine_referral_id"] for r in referrals}) == len(referrals)


def test_close_date_is_never_before_referral_date(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    closed = [r for r in tables[cin_episodes.name] if r["cine_close_date"] is not None]
    assert closed
    for r in closed:
        assert r["cine_close_date"] >= r["cine_referral_date"]
        assert r["cine_close_reason"] is not None
    open_ = [r for r in tables[cin_episodes.name] if r["cine_close_date"] is None]
    assert all(r["cine_close_reason"] is None for r in open_)


def test_about_half_of_referrals_are_closed(tables: dict[str, list[dict[str, Any]]]) -> None:
    referrals = tables[cin_episodes.name]
    share = sum(r["cine_close_date"] is not None for r in referrals) / len(referrals)
    assert 0.35 < share < 0.65


def test_events_fall_between_start_and_end_and_after_birth(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    dob = {p["pers_person_id"]: p["pers_dob"] for p in tables[person.name]}
    for r in tables[cin_episodes.name]:
        assert max(OPTIONS.start, dob[r["cine_person_id"]]) <= r["cine_referral_date"]
        assert r["cine_referral_date"] <= OPTIONS.end
    for c in tables[contacts.name]:
        day = c["cont_contact_date"].date()
        assert max(OPTIONS.start, dob[c["cont_person_id"]]) <= day <= OPTIONS.end
    for e in tables[early_help_episodes.name]:
        assert OPTIONS.start <= e["earl_episode_start_date"] <= OPTIONS.end
        if e["earl_episode_end_date"] is not None:
            assert e["earl_episode_start_date"] <= e["earl_episode_end_date"] <= OPTIONS.end
            assert e["earl_episode_end_reason"] in EARLY_HELP_END_REASONS or (
                e["earl_episode_end_reason"] == "Closed - see case notes"  # a bad row on purpose
            )
        else:
            assert e["earl_episode_end_reason"] is None


def test_outcome_json_keeps_every_ssd_key(tables: dict[str, list[dict[str, Any]]]) -> None:
    for row in tables[contacts.name]:
        outcome = json.loads(row["cont_contact_outcome_json"])
        assert tuple(outcome) == codes.CONTACT_OUTCOME_KEYS
        assert set(outcome.values()) <= {"Y", "N", None}
        assert "Y" in outcome.values()
    for row in tables[cin_episodes.name]:
        outcome = json.loads(row["cine_referral_outcome_json"])
        assert tuple(outcome) == codes.REFERRAL_OUTCOME_KEYS
        assert (outcome["NFA_FLAG"] == "Y") == (row["cine_referral_nfa"] == "Y")


def test_last_updated_is_never_before_the_change_nor_after_end(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    ceiling = datetime.combine(OPTIONS.end, time(23, 59, 59))
    for table in TABLES:
        for row in tables[table.name]:
            assert row["last_updated"] <= ceiling
    for r in tables[cin_episodes.name]:
        assert r["last_updated"].date() >= (r["cine_close_date"] or r["cine_referral_date"])
    for c in tables[contacts.name]:
        assert c["last_updated"] >= c["cont_contact_date"]


def test_some_referrals_share_a_last_updated_second(
    tables: dict[str, list[dict[str, Any]]],
) -> None:
    stamps = [r["last_updated"] for r in tables[cin_episodes.name]]
    assert len(set(stamps)) < len(stamps)


# --------------------------------------------------------------------------- scale and counts


def test_summary_counts_match_the_tables(db: tuple[Engine, SynthSummary]) -> None:
    engine, summary = db
    with engine.connect() as conn:
        actual = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES
        }
    assert summary.rows == actual
    assert summary.total == sum(actual.values())


def test_counts_scale_with_children(tmp_path: Path) -> None:
    _, small = _write(tmp_path, "small.db", SynthOptions(children=300))
    _, large = _write(tmp_path, "large.db", SynthOptions(children=1500))
    assert small.rows[person.name] == 300 + sum(SynthOptions(children=300).young_people)
    assert large.rows[person.name] == 1500 + sum(SynthOptions(children=1500).young_people)
    for summary, n in ((small, 300), (large, 1500)):
        assert 1.2 * n < summary.rows[contacts.name] < 1.8 * n
        assert 0.35 * n < summary.rows[cin_episodes.name] < 0.65 * n
        assert 0.18 * n < summary.rows[early_help_episodes.name] < 0.42 * n
    for table in TABLES:
        assert large.rows[table.name] > small.rows[table.name]


def test_zero_children_writes_empty_tables(tmp_path: Path) -> None:
    _, summary = _write(tmp_path, "empty.db", SynthOptions(children=0))
    assert summary.rows == {t.name: 0 for t in TABLES}


# --------------------------------------------------------------------------- refusing to overwrite


def test_refuses_to_write_into_a_non_empty_database(tmp_path: Path) -> None:
    url, _ = _write(tmp_path, "cms.db", SynthOptions(children=20))
    before = _content_hash(url)
    with pytest.raises(SynthError, match="overwrite"):
        write_case_management_db(url, SynthOptions(children=30, seed=2))
    assert _content_hash(url) == before


def test_overwrite_replaces_the_existing_rows(tmp_path: Path) -> None:
    url, _ = _write(tmp_path, "cms.db", SynthOptions(children=20))
    summary = write_case_management_db(url, OPTIONS, overwrite=True)
    assert summary.rows[person.name] == OPTIONS.children + sum(OPTIONS.young_people)
    fresh, _ = _write(tmp_path, "fresh.db", OPTIONS)
    assert _content_hash(url) == _content_hash(fresh)


def test_existing_empty_tables_are_filled(tmp_path: Path) -> None:
    url, _ = _write(tmp_path, "cms.db", SynthOptions(children=0))
    summary = write_case_management_db(url, SynthOptions(children=10))
    assert summary.rows[person.name] == 10 + sum(SynthOptions(children=10).young_people)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"children": -1},
        {"children": 900_001},
        {"la_code": "99"},
        {"la_code": "9999"},
        {"la_code": "ab1"},
        {"start": date(2026, 4, 1), "end": date(2026, 3, 31)},
    ],
)
def test_invalid_options_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(SynthError):
        SynthOptions(**kwargs)
