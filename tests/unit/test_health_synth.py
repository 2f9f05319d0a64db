"""Synthetic health files: deterministic, the case-management DB's children, realistic shares."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from connectors.case_management.ssd import person
from connectors.health import codes
from connectors.health.fhir import Index
from connectors.health.folder import FolderSource
from connectors.health.mapping import REVIEW, Context, map_entries
from deploy.synth.case_management import SynthOptions, write_case_management_db
from deploy.synth.health import TEMPLATES, WORRIED_TEMPLATES, write_health_files
from schemas.identifiers import is_valid_nhs_number

CHILDREN = 6000


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("health-synth")
    url = f"sqlite:///{tmp / 'cm.db'}"
    write_case_management_db(url, SynthOptions(children=CHILDREN, seed=5))
    summary = write_health_files(url, tmp / "a", 5, "999", bad_rate=0.02)
    return {"url": url, "tmp": tmp, "summary": summary, "out": tmp / "a"}


def resources(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".ndjson":
            out += [json.loads(line) for line in path.read_text().splitlines()]
        elif path.suffix == ".json":
            out += [e["resource"] for e in json.loads(path.read_text())["entry"]]
    return out


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_same_seed_gives_the_same_files_and_another_seed_others(la):
    again = write_health_files(la["url"], la["tmp"] / "b", 5, "999", bad_rate=0.02)
    assert again.files == la["summary"].files
    assert digest(la["tmp"] / "b") == digest(la["out"])
    write_health_files(la["url"], la["tmp"] / "c", 6, "999", bad_rate=0.02)
    assert digest(la["tmp"] / "c") != digest(la["out"])


def test_patients_carry_the_case_management_nhs_numbers(la):
    engine = create_engine(la["url"])
    with engine.connect() as conn:
        known = {n for (n,) in conn.execute(select(person.c.pers_common_child_id)) if n}
    engine.dispose()
    bad = sum(1 for b in la["summary"].bad if b.rule == "nhs_number.check")
    numbers = Counter()
    for r in resources(la["out"]):
        for ident in r.get("identifier", []) if r["resourceType"] == "Patient" else []:
            numbers[ident["value"] in known and is_valid_nhs_number(ident["value"])] += 1
    assert numbers[False] == bad and numbers[True] > 500


def test_communication_is_below_cut_off_for_about_one_child_in_eight(la):
    zones = Counter()
    for r in resources(la["out"]):
        if (
            r["resourceType"] == "Observation"
            and r["code"]["coding"][0]["code"] == "asq3-communication"
        ):
            zones[r["interpretation"][0]["coding"][0]["code"]] += 1
        elif (
            r["resourceType"] == "Observation"
            and r["code"]["coding"][0]["code"] == codes.ASQ3_PANEL
        ):
            zones[r["component"][0]["interpretation"][0]["coding"][0]["code"]] += 1
        elif r["resourceType"] == "QuestionnaireResponse":
            area = next(i for i in r["item"] if i["linkId"] == "asq3-communication")
            zones[area["answer"][0]["item"][0]["answer"][0]["valueCoding"]["code"]] += 1
    share = zones["BELOW"] / sum(zones.values())
    assert 0.08 <= share <= 0.17, zones  # 11% on 200,000 children


def test_comments_are_only_template_wording(la):
    shapes = [
        re.compile(".+".join(re.escape(part) for part in re.split(r"\{\w+\}", t)))
        for t in TEMPLATES + WORRIED_TEMPLATES
    ]
    texts = [p["contentString"] for r in resources(la["out"]) for p in r.get("payload", [])]
    texts += [
        i["answer"][0]["valueString"]
        for r in resources(la["out"])
        for i in r.get("item", [])
        if i["linkId"] == codes.PARENT_COMMENT
    ]
    assert len(texts) > 100
    assert all(any(s.fullmatch(t) for s in shapes) for t in texts)


def test_the_connector_maps_every_good_record_and_rejects_exactly_the_listed_bad_ones(la):
    summary = la["summary"]
    ctx = Context("hv", "SYSTMONE", "999")
    mapped, rejected = Counter(), set()
    for name in summary.files:
        for o in map_entries(Index(FolderSource.entries(la["out"] / name)), ctx):
            if o.record is not None:
                mapped[o.event_type] += 1
            else:
                rejected.add((name, o.entry.index, o.error.rule))
    assert mapped == summary.events
    assert rejected == {(b.file, b.index, b.rule) for b in summary.bad}
    assert {b.rule for b in summary.bad} >= {"fhir.structure", "cpis.care_setting"}
    assert (
        summary.events[REVIEW] + sum(b.event_type == REVIEW for b in summary.bad) == summary.reviews
    )
