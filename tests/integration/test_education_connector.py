"""The education files connector on the real Kafka: synthetic school files in, events out.

Each test has its own topic namespace; the education source topics are created
here (they are not yet in schemas.topics.SOURCE_EVENTS).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from connectors import registry
from connectors.common.runner import ConnectorRunner, RunStats
from connectors.education.connector import EducationFilesConnector
from connectors.education.mapping import EVENT_TYPES
from deploy.synth.case_management import SynthOptions, write_case_management_db
from deploy.synth.education import EducationSummary, write_education_files
from schemas import topics
from tests.integration.harness import Namespace, poll

pytestmark = pytest.mark.integration
OLD = 1_000_000_000  # a modification time long settled


def source_topic(event_type: str, ns: Namespace) -> str:
    return topics.source_topic(*event_type.split("."), ns.prefix)


def create_education_topics(ns: Namespace) -> None:
    names = [source_topic(t, ns) for t in EVENT_TYPES]
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(name, 4, 1) for name in names])

        def leaders() -> bool:  # every partition has one, so the first sends need no retries
            described = admin.describe_topics(names)
            return all(
                d["error_code"] == 0 and len(d["partitions"]) == 4
                and all(p["leader_id"] >= 0 for p in d["partitions"])
                for d in described
            )  # fmt: skip

        poll(leaders, 30, "leaders of the education topics")
    finally:
        admin.close()


@pytest.fixture(scope="module")
def la(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('la') / 'cm.db'}"
    write_case_management_db(url, SynthOptions(children=1200, seed=21))
    return url


@pytest.fixture
def edu(namespace: Namespace) -> Namespace:
    create_education_topics(namespace)
    return namespace


def runner(ns: Namespace, inbox: Path, state: Path, **raw: Any) -> ConnectorRunner:
    settings = {"connector": "education_files", "name": "edu-it", "la_code": "999",
                "inbox": str(inbox), "state_dir": str(state), "kafka_bootstrap": ns.stack.bootstrap,
                "topic_prefix": ns.prefix, "source_system": "SIMS", **raw}  # fmt: skip
    if "education_files" not in registry.KINDS:  # until the registry lists the kind
        return ConnectorRunner(EducationFilesConnector(
            registry.load_settings(registry.COMMON_SETTINGS + EducationFilesConnector.SETTINGS,
                                   settings, "test")))  # fmt: skip
    return ConnectorRunner(registry.parse(settings))


def synthesise(url: str, inbox: Path) -> EducationSummary:
    summary = write_education_files(url, inbox, seed=4, la_code="999", bad_rate=0.01)
    for p in inbox.iterdir():
        os.utime(p, (OLD, OLD))
    return summary


def published(ns: Namespace) -> dict[str, list[dict[str, Any]]]:
    return {t: ns.decoded(source_topic(t, ns)) for t in EVENT_TYPES}


def event_ids(events: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [e["envelope"]["event_id"] for records in events.values() for e in records]


def run(r: ConnectorRunner) -> RunStats:
    try:
        return r.run(until_idle=True)
    finally:
        r.close()


def test_events_per_type_equal_the_good_records_and_bad_ones_are_dead_lettered(edu, la, tmp_path):
    inbox = tmp_path / "in"
    summary = synthesise(la, inbox)
    header = "URN,AcademicYear,Term,UPN,SessionsAuthorised,SessionsUnauthorised\n"
    (inbox / "odd_export.csv").write_text(header + "120019,2024/25,AUT,X,1,0\n")
    os.utime(inbox / "odd_export.csv", (OLD, OLD))
    stats = run(runner(edu, inbox, tmp_path / "state"))
    events = published(edu)
    assert {t: len(v) for t, v in events.items() if v} == summary.by_event_type()
    ids = event_ids(events)
    assert len(ids) == len(set(ids)) == stats.published
    letters = edu.decoded(topics.dlq_topic("connector", edu.prefix))
    rules = Counter(d["rule"] for d in letters)
    assert rules == summary.rejected + Counter({"file.header": 1})
    for d in letters:
        assert d["source"]["entity"].endswith((".csv", ".xml")) and d["source"]["key"][0].isdigit()
        assert d["field"] and d["stage"] == "connector"
    (odd,) = [d for d in letters if d["rule"] == "file.header"]
    assert odd["source"]["entity"] == "odd_export.csv" and "SessionsPossible" in odd["reason"]
    assert not list(inbox.glob("*.csv")) and not list(inbox.glob("*.xml"))  # all moved


def test_a_restart_mid_file_publishes_every_record_exactly_once(edu, la, tmp_path):
    inbox = tmp_path / "in"
    summary = synthesise(la, inbox)
    first = runner(edu, inbox, tmp_path / "state", batch_size=10)
    first.run_batch(RunStats())
    position = first.position()
    first.close()
    assert position and position["current"]["index"] == 10  # stopped inside a file
    run(runner(edu, inbox, tmp_path / "state", batch_size=25))
    ids = event_ids(published(edu))
    assert len(ids) == len(set(ids)) == sum(summary.by_event_type().values())


def test_a_half_written_file_is_read_only_when_complete(edu, la, tmp_path):
    inbox, done = tmp_path / "in", tmp_path / "complete"
    synthesise(la, done)
    name = next(p.name for p in sorted(done.iterdir()) if p.name.endswith("_census_AUT.xml"))
    inbox.mkdir()
    text = (done / name).read_text()
    (inbox / name).write_text(text[: len(text) // 2])  # being written: modified just now
    stats = run(runner(edu, inbox, tmp_path / "state", settle_s=30.0))
    assert stats.read == 0 and not any(published(edu).values())
    (inbox / name).write_text(text)
    os.utime(inbox / name, (OLD, OLD))
    stats = run(runner(edu, inbox, tmp_path / "state", settle_s=30.0))
    assert stats.read == text.count("<PupilOnRoll>") and stats.dead_lettered == sum(
        1 for d in edu.decoded(topics.dlq_topic("connector", edu.prefix))
    )
    assert len(event_ids(published(edu))) == stats.published > 0


def test_a_file_dropped_again_with_the_same_content_is_not_reprocessed(edu, la, tmp_path):
    inbox = tmp_path / "in"
    synthesise(la, inbox)
    run(runner(edu, inbox, tmp_path / "state"))
    before = len(event_ids(published(edu)))
    again = next((inbox / "processed").glob("*_attendance_AUT.csv"))
    shutil.copy(again, inbox / f"resent_{again.name}")
    os.utime(inbox / f"resent_{again.name}", (OLD, OLD))
    stats = run(runner(edu, inbox, tmp_path / "state"))
    assert stats.read == 0 and len(event_ids(published(edu))) == before
    assert not (inbox / f"resent_{again.name}").exists()  # tidied into processed/
