"""Kafka stops for 30 s while a connector runs: it waits, resumes and loses nothing.

The test starts a private stack (its own state directory and ports, from the same
cache) so that stopping its Kafka disturbs no other test, and stops only the
processes it started.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from connectors import registry
from connectors.common.runner import ConnectorRunner, RunStats
from deploy.local import kafka as local_kafka
from deploy.local import processes, stack
from deploy.synth.case_management import SynthOptions, write_case_management_db
from schemas.codec import Codec
from schemas.topics import SOURCE_EVENTS, source_topic
from tests.integration.harness import REPO, free_port, poll

pytestmark = pytest.mark.integration
OUTAGE_S = 30


@pytest.fixture
def private_stack(tmp_path: Path):
    cache = Path(os.environ.get("CHORUS_CACHE", "~/.cache/chorus")).expanduser()
    settings = stack.StackSettings(
        state_dir=tmp_path / "stack",
        cache_dir=cache,
        policies_dir=REPO / "policies",
        kafka_port=free_port(),
        controller_port=free_port(),
        opa_port=free_port(),
    )
    stack.up(settings, log=lambda _: None)
    try:
        yield settings
    finally:
        stack.down(settings, log=lambda _: None)


def event_ids(bootstrap: str) -> list[str]:
    codec = Codec()
    consumer = KafkaConsumer(
        *[source_topic(d, e) for d, e in SOURCE_EVENTS],
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
    )
    try:
        return [codec.decode(m.value)[1]["envelope"]["event_id"] for m in consumer]
    finally:
        consumer.close()


def test_a_connector_waits_out_a_kafka_outage_and_loses_nothing(private_stack, tmp_path):
    url = f"sqlite:///{tmp_path / 'cm.db'}"
    write_case_management_db(url, SynthOptions(children=1500, seed=21))

    def runner(state: str) -> ConnectorRunner:
        return ConnectorRunner(
            registry.parse(
                {
                    "connector": "case_management",
                    "name": "lcs-outage",
                    "source_url": url,
                    "la_code": "999",
                    "kafka_bootstrap": private_stack.bootstrap_servers,
                    "state_dir": str(tmp_path / state),
                    "batch_size": 100,
                }
            )
        )

    during = runner("during")
    stats = RunStats()
    result: dict[str, RunStats] = {}
    thread = threading.Thread(target=lambda: result.update(run=during.run(until_idle=True)))
    first = during.run_batch(stats)
    assert first > 0
    layout = local_kafka.Layout(private_stack.state_dir)
    assert "stopped" in processes.stop(layout.pid_file, layout.markers)
    stopped_at = time.monotonic()
    thread.start()  # the connector runs while Kafka is away
    time.sleep(OUTAGE_S)
    assert thread.is_alive(), "the connector gave up while Kafka was down"
    stack.up(private_stack, log=lambda _: None)
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert time.monotonic() - stopped_at >= OUTAGE_S
    during.close()
    published = stats.published + result["run"].published
    assert during.lag() == 0

    seen = poll(lambda: event_ids(private_stack.bootstrap_servers) or None, 60, "events")
    assert len(set(seen)) == published  # every event is there, each at least once
    # A connector that never saw an outage publishes exactly the same events.
    clean = runner("clean").connector
    expected = set()
    position = None
    while (batch := clean.read(position, 1000)) is not None:
        expected |= {i.record["envelope"]["event_id"] for i in batch.items if hasattr(i, "record")}
        position = batch.position
    clean.close()
    assert set(seen) == expected
