"""The health (FHIR) connector on the real Kafka: a synthetic LA's files and a FHIR server double.

Counts on the source topics are compared with an independent scan of the files;
dead letters with the faults the synthetic writer listed (file, entry, rule).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.common.runner import ConnectorRunner, RunStats
from connectors.common.settings import COMMON_SETTINGS, load_settings
from connectors.health import codes
from connectors.health import examples as fx
from connectors.health.connector import FhirConnector
from connectors.health.fhir import Index
from connectors.health.folder import FolderSource
from connectors.health.mapping import COMMENT, CPIS, REVIEW, Context, map_entries
from deploy.synth.case_management import SynthOptions, write_case_management_db
from deploy.synth.health import write_health_files
from schemas import topics
from tests.integration.harness import Namespace
from tests.unit.test_health_server import TOKEN, FhirDouble

pytestmark = pytest.mark.integration
EVENT_TYPES = (REVIEW, COMMENT, CPIS)
NAME = "hv-it"


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> dict[str, Any]:
    """A synthetic LA of 1,500 children and its health files, with about 3% faulty records."""
    tmp = tmp_path_factory.mktemp("health-la")
    url = f"sqlite:///{tmp / 'cm.db'}"
    write_case_management_db(url, SynthOptions(children=1500, seed=21))
    summary = write_health_files(url, tmp / "files", 21, "999", bad_rate=0.03)
    assert summary.bad, "the synthetic LA should hold some faulty records"
    return {"folder": tmp / "files", "summary": summary}


def topic(ns: Namespace, event_type: str) -> str:
    return topics.source_topic(*event_type.split("."), ns.prefix)


def runner(ns: Namespace, state: Path, batch_size: int = 2000, **source: Any) -> ConnectorRunner:
    raw = {
        "connector": "health_fhir",
        "name": NAME,
        "la_code": "999",
        "kafka_bootstrap": ns.stack.bootstrap,
        "state_dir": str(state),
        "topic_prefix": ns.prefix,
        "batch_size": batch_size,
        "settle_s": 0,
        **source,
    }
    settings = load_settings(COMMON_SETTINGS + FhirConnector.SETTINGS, raw, "test")
    return ConnectorRunner(FhirConnector(settings, environ={"HV_TOKEN": TOKEN}))


def run(ns: Namespace, state: Path, **source: Any) -> RunStats:
    r = runner(ns, state, **source)
    try:
        return r.run(until_idle=True)
    finally:
        r.close()


def published(ns: Namespace) -> dict[str, list[dict[str, Any]]]:
    return {t: ns.decoded(topic(ns, t)) for t in EVENT_TYPES}


def counts(events: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    return Counter({t: len(v) for t, v in events.items() if v})


def ids(events: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [e["envelope"]["event_id"] for v in events.values() for e in v]


def scan(folder: Path) -> Counter[str]:
    """What the files hold, counted straight from the JSON (not with the connector's code)."""
    found: Counter[str] = Counter()
    for path in sorted(folder.glob("*.*json")):
        text = path.read_text()
        if path.suffix == ".ndjson":
            resources = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            resources = [e["resource"] for e in json.loads(text)["entry"]]
        for r in resources:
            kind = {
                c["code"] for cc in r.get("type", []) + r.get("category", []) for c in cc["coding"]
            }
            if r["resourceType"] == "Encounter" and codes.REVIEW_ENCOUNTER in kind:
                found[REVIEW] += 1
            elif r["resourceType"] == "Communication":
                found[COMMENT if codes.PARENT_COMMENT in kind else CPIS] += 1
            elif r["resourceType"] == "QuestionnaireResponse":
                found[COMMENT] += any(i["linkId"] == codes.PARENT_COMMENT for i in r["item"])
    return found


def expected(la: dict[str, Any]) -> Counter[str]:
    want = scan(la["folder"])
    want.subtract(Counter(b.event_type for b in la["summary"].bad))
    return want


def offline_ids(folder: Path) -> set[str]:
    ctx = Context(NAME, "OTHER", "999")
    out = set()
    for path in sorted(folder.glob("*.*json")):
        for o in map_entries(Index(FolderSource.entries(path)), ctx):
            if o.record:
                out.add(o.record["envelope"]["event_id"])
    return out


def test_every_good_record_reaches_its_topic_and_every_bad_one_the_dead_letters(
    namespace, la, tmp_path
):
    stats = run(namespace, tmp_path / "state", folder=str(la["folder"]))
    events = published(namespace)
    assert counts(events) == expected(la)
    assert len(ids(events)) == len(set(ids(events)))
    letters = namespace.decoded(topics.dlq_topic("connector", namespace.prefix))
    got = {(d["source"]["entity"], d["source"]["key"], d["rule"]) for d in letters}
    assert got == {(b.file, str(b.index), b.rule) for b in la["summary"].bad}
    nhs_numbers = {e["envelope"]["subject"]["nhs_number"] for e in events[REVIEW]} - {None}
    for d in letters:
        assert not any(n in d["reason"] or n in (d["field"] or "") for n in nhs_numbers)
    assert stats.published == sum(expected(la).values()) and stats.dead_lettered == len(letters)
    print(f"health connector: {stats.published} events in {stats.seconds:.1f}s "
          f"({stats.published / stats.seconds:.0f} events/s)")  # fmt: skip


def test_a_restart_mid_folder_publishes_each_event_once_and_misses_none(namespace, la, tmp_path):
    first = runner(namespace, tmp_path / "state", batch_size=7, folder=str(la["folder"]))
    stats = RunStats()
    try:
        while first.run_batch(stats) and (
            stats.batches < 10 or first.position()["current"] is None
        ):
            pass
        assert first.position()["current"] is not None  # stopped inside a file
    finally:
        first.close()
    run(namespace, tmp_path / "state", batch_size=7, folder=str(la["folder"]))
    events = published(namespace)
    assert len(ids(events)) == len(set(ids(events)))
    assert set(ids(events)) == offline_ids(la["folder"])


def test_a_half_written_file_is_not_read_until_it_is_complete(namespace, la, tmp_path):
    source = next(la["folder"].glob("*hv-reviews*.ndjson"))
    folder = tmp_path / "drop"
    folder.mkdir()
    data = source.read_bytes()
    (folder / source.name).write_bytes(data[: len(data) // 2])  # cut mid-line, just written
    stats = run(namespace, tmp_path / "state", folder=str(folder), settle_s=30.0)
    assert stats.published == stats.dead_lettered == 0
    (folder / source.name).write_bytes(data)
    (folder / (source.name + ".done")).touch()
    stats = run(namespace, tmp_path / "state", folder=str(folder), settle_s=30.0)
    solo = tmp_path / "solo"
    solo.mkdir()
    shutil.copy(source, solo / source.name)
    assert set(ids(published(namespace))) == offline_ids(solo)
    assert stats.published == len(offline_ids(solo))


def test_server_mode_publishes_what_the_server_holds_and_then_only_what_is_new(
    namespace, la, tmp_path
):
    resources = [
        json.loads(line)
        for path in sorted(la["folder"].glob("*hv-reviews*.ndjson"))
        for line in path.read_text().splitlines()
    ]
    summary = la["summary"]
    bad_reviews = sum(1 for b in summary.bad if b.event_type == REVIEW)
    with FhirDouble(resources) as server:
        source = {"source": "server", "base_url": server.base, "auth_header_env": "HV_TOKEN",
                  "page_size": 25, "batch_size": 40}  # fmt: skip
        stats = run(namespace, tmp_path / "state", **source)
        events = published(namespace)
        assert counts(events) == Counter(
            {REVIEW: summary.events[REVIEW], COMMENT: summary.events[COMMENT]}
        )
        assert stats.dead_lettered == bad_reviews
        patient = next(
            r for r in resources if r["resourceType"] == "Patient" and r.get("identifier")
        )
        later = "2099-01-01T00:00:00+00:00"
        server.put(
            fx.parent_comment(
                "late-1", patient["id"], None, later, "More synthetic words.", stamp=later
            )
        )
        stats = run(namespace, tmp_path / "state", **source)
        assert (stats.published, stats.dead_lettered) == (1, 0)
        assert len(published(namespace)[COMMENT]) == summary.events[COMMENT] + 1
