"""`chorus policy impact` on the real stack: a candidate that removes one field from one
purpose reports exactly the records and recipients affected, and nothing else."""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer

from deploy.commands import policy
from deploy.environment import Environment
from deploy.local.opa import binary_path
from schemas import topics
from schemas.codec import Codec
from schemas.examples import envelope
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.identifiers import synthetic_nhs_number
from tests.integration.harness import REPO

pytestmark = pytest.mark.integration
codec = Codec()
CACHE = Path("~/.cache/chorus").expanduser()


def publish(ns) -> dict[str, list[str]]:
    """Referrals, contacts and health reviews for several children; their ids by type."""
    ids: dict[str, list[str]] = {}
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all")
    plan = [
        (CASE_MANAGEMENT, "case_management.referral", 4),
        (CASE_MANAGEMENT, "case_management.contact", 3),
        (HEALTH, "health.development_review_completed", 2),
    ]
    for examples, event_type, n in plan:
        for i in range(n):
            record = copy.deepcopy(examples[event_type])
            record["envelope"] = envelope(
                event_type,
                key=f"IMPACT-{event_type}-{i}",
                la_child_id=f"C{700 + i:07d}",
                nhs_number=synthetic_nhs_number(7000 + i),
            )
            ids.setdefault(event_type, []).append(record["envelope"]["event_id"])
            domain, name = event_type.split(".", 1)
            producer.send(
                topics.source_topic(domain, name, ns.prefix), value=codec.encode(event_type, record)
            )
    producer.flush()
    producer.close()
    return ids


def candidate_without(folder: Path, purpose: str, event_type: str, field: str) -> None:
    path = folder / "data" / "purposes.yaml"
    doc = yaml.safe_load(path.read_text())
    del doc["purposes"][purpose]["events"][event_type][field]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def impact_json(ns, capsys, current: Path, candidate: Path, **extra) -> dict:
    args = argparse.Namespace(
        action="impact",
        candidate=candidate,
        current_dir=current,
        last=1000,
        since=None,
        date="2026-06-01",
        app_id=ns.app_id("no-gatekeeper"),
        identity_app_id=ns.app_id("no-identity"),
        bootstrap=None,
        topic_prefix=None,
        show_ids=10,
        json=True,
    )
    for key, value in extra.items():
        setattr(args, key, value)
    env = Environment(
        {"CHORUS_KAFKA_BOOTSTRAP": ns.stack.bootstrap, "CHORUS_TOPIC_PREFIX": ns.prefix}
    )
    capsys.readouterr()
    assert policy.run(args, ns.stack.opa_url, binary_path(CACHE), env) == 0
    return json.loads(capsys.readouterr().out)


def test_removing_one_field_reports_exactly_the_records_and_recipients_affected(
    namespace, tmp_path, capsys
):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    ids = publish(namespace)
    current = tmp_path / "current"
    shutil.copytree(REPO / "policies", current, ignore=shutil.ignore_patterns(".*"))
    candidate = tmp_path / "candidate"
    shutil.copytree(current, candidate)
    candidate_without(
        candidate, "strategic_reporting", "case_management.referral", "referral_source"
    )

    report = impact_json(namespace, capsys, current, candidate)
    assert report["events"] == sum(len(v) for v in ids.values())
    assert report["current_revision"] != report["candidate_revision"]
    assert [
        (c["recipient"], c["purpose"], c["change"], c["field"], c["detail"], c["count"])
        for c in report["changes"]
    ] == [
        (
            "la_performance_team",
            "strategic_reporting",
            "field removed",
            "referral_source",
            "was keep",
            4,
        )
    ]
    assert sorted(report["changes"][0]["event_ids"]) == sorted(ids["case_management.referral"])

    same = impact_json(namespace, capsys, current, current)
    assert same["changes"] == []
    since = impact_json(namespace, capsys, current, candidate, since=before.isoformat())
    assert since["changes"] == report["changes"]
