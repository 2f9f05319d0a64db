"""Synthetic school files: deterministic, the case-management UPNs, and what the summary says."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest

from connectors.common.base import Mapped, Rejected
from deploy.synth.case_management import SynthOptions, write_case_management_db
from deploy.synth.education import write_education_files
from deploy.synth.population import children
from tests.unit.test_education_files import connector, drain


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("la") / "cm.db"
    url = f"sqlite:///{path}"
    write_case_management_db(url, SynthOptions(children=2500, seed=11))
    return url


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_same_seed_writes_the_same_files(la, tmp_path):
    a = write_education_files(la, tmp_path / "a", seed=5, la_code="999")
    b = write_education_files(la, tmp_path / "b", seed=5, la_code="999")
    assert digest(tmp_path / "a") == digest(tmp_path / "b") and a.events == b.events
    write_education_files(la, tmp_path / "c", seed=6, la_code="999")
    assert digest(tmp_path / "c") != digest(tmp_path / "a")


def test_files_hold_the_case_management_upns_in_every_export_style(la, tmp_path):
    write_education_files(la, tmp_path, seed=5, la_code="999")
    names = {p.name for p in tmp_path.iterdir()}
    assert any(n.endswith("_ctf.xml") for n in names) and any(
        n.endswith("_eyfsp.xml") for n in names
    )
    assert any(n.endswith("_attendance_SPR.csv") for n in names)
    assert (
        any(n.endswith("_census_SUM.xml") for n in names)
        and "999_ehcp_milestones_202425.csv" in names
    )
    upns = {c.upn for c in children(la) if c.upn}
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    school_upns = {u for u in upns if u in text}
    assert len(school_upns) > 0.7 * len(upns)  # school age in 2024/25 (reception to year 11)


def test_the_connector_reads_exactly_the_events_and_dead_letters_the_summary_promises(la, tmp_path):
    summary = write_education_files(la, tmp_path / "in", seed=5, la_code="999", bad_rate=0.02)
    for p in (tmp_path / "in").iterdir():
        os.utime(p, (1_000_000_000, 1_000_000_000))
    items, _ = drain(connector(tmp_path / "in", tmp_path / "state"), limit=500)
    events = Counter(i.event_type for i in items if isinstance(i, Mapped))
    rules = Counter(i.error.rule for i in items if isinstance(i, Rejected))
    assert dict(events) == summary.by_event_type()
    assert dict(rules) == dict(summary.rejected)
    assert set(rules) >= {"upn.check", "date.format", "attendance.code"}
    ids = [i.record["envelope"]["event_id"] for i in items if isinstance(i, Mapped)]
    assert len(ids) == len(set(ids))


def test_rates_are_near_the_national_shapes(la, tmp_path):
    rates = write_education_files(la, tmp_path, seed=5, la_code="999").rates
    assert 0.5 < rates["gld"] < 0.8
    assert 0.15 < rates["persistent_absence_termly"] < 0.26
    assert 0.05 < rates["absence"] < 0.1
    assert 4 < rates["suspensions_per_100"] < 20
    assert 0.18 < rates["fsm"] < 0.32
