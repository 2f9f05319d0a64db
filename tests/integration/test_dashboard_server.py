"""`chorus dashboard` against the real Kafka: snapshot, live updates, tombstones, health, metrics.

Cells are produced to a fresh namespace's chorus.agg.care_leavers topic, encoded as the
aggregate workers encode them, so these tests exercise the dashboard alone.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from schemas import topics
from schemas.codec import Codec
from tests.integration.harness import Namespace, free_port, http_get, poll
from tests.unit.test_dashboard_cells import cell

pytestmark = pytest.mark.integration


def start_dashboard(ns: Namespace, log: Path, **env: str) -> str:
    port = free_port()
    ns.start_chorus(log, "dashboard", "--port", str(port), **env)
    return f"http://127.0.0.1:{port}"


def produce(ns: Namespace, *messages: tuple[str, dict[str, Any] | None]) -> None:
    codec = Codec()
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all")
    try:
        for key, value in messages:
            body = None if value is None else codec.encode("platform.aggregate_cell", value)
            producer.send(topics.agg_topic("care_leavers", ns.prefix), key=key.encode(), value=body)
        producer.flush()
    finally:
        producer.close()


def sse_events(url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs from a server-sent events stream."""
    with urllib.request.urlopen(url, timeout=30) as resp:
        event = None
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                yield event, json.loads(line[6:])
                event = None


def cells_held(base: str) -> dict[str, dict[str, Any]]:
    status, body = http_get(f"{base}/cells")
    assert status == 200
    return {c["cell_key"]: c for c in json.loads(body)["cells"]}


def test_cells_from_the_beginning_latest_per_key_then_live_updates(namespace, tmp_path):
    produce(namespace, ("k1", cell("k1", 10.0)), ("k1", cell("k1", 15.0)), ("k2", cell("k2", None)))
    produce(namespace, ("k3", cell("k3", 30.0)), ("k3", None))  # a tombstone removes k3
    base = start_dashboard(namespace, tmp_path / "dashboard.log")
    namespace.poll(lambda: http_get(f"{base}/health")[0] == 200, 60, "the dashboard's /health")
    namespace.poll(lambda: len(cells_held(base)) == 2 or None, 30, "the two cells held")
    held = cells_held(base)
    assert held["k1"]["measures"][0]["value"] == 15.0
    assert held["k2"]["measures"][0]["status"] == "SUPPRESSED"

    stream = sse_events(f"{base}/events")
    event, snapshot = next(stream)
    assert event == "snapshot" and {c["cell_key"] for c in snapshot["cells"]} == {"k1", "k2"}
    produce(namespace, ("k4", cell("k4", 40.0)), ("k1", None))
    seen_upserts: set[str] = set()
    seen_removed: set[str] = set()
    for event, data in stream:
        assert event == "update"
        seen_upserts |= {c["cell_key"] for c in data["upserts"]}
        seen_removed |= set(data["removed"])
        if "k4" in seen_upserts and "care_leavers/k1" in seen_removed:
            break
    assert set(cells_held(base)) == {"k2", "k4"}

    status, body = http_get(f"{base}/metrics")
    assert status == 200
    text = body.decode()
    topic = topics.agg_topic("care_leavers", namespace.prefix)
    consumed = re.search(
        rf'^chorus_dashboard_messages_consumed_total\{{topic="{re.escape(topic)}"\}} (\S+)',
        text,
        re.M,
    )
    assert consumed and float(consumed.group(1)) == 7
    assert 'chorus_dashboard_cells_held{aggregate="care_leavers"} 2.0' in text
    assert 'chorus_dashboard_suppressed_cells_shown{aggregate="care_leavers"} 1.0' in text


def test_health_is_503_with_a_reason_while_kafka_cannot_be_reached(namespace, tmp_path):
    nowhere = f"127.0.0.1:{free_port()}"
    base = start_dashboard(namespace, tmp_path / "dashboard.log", CHORUS_KAFKA_BOOTSTRAP=nowhere)
    status, body = poll(
        lambda: http_get(f"{base}/health") if http_get(base)[0] else None, 30, "the page"
    )
    assert status == 503
    health = json.loads(body)
    assert health["status"] == "unavailable" and health["assigned_partitions"] == 0
    assert health["problem"]
