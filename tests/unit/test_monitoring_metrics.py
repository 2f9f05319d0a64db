"""The metrics helpers and the /metrics + /health endpoint, on a real local HTTP server."""

from __future__ import annotations

import json
import time
from collections import Counter
from types import SimpleNamespace

from kafka import TopicPartition
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from connectors.common import metrics as connector_metrics
from deploy.observability import Endpoint
from streams import metrics
from streams.policy_client import CacheStats
from tests.integration.harness import http_get


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_endpoint_serves_metrics_and_health_on_one_port():
    state = {"ok": True}
    endpoint = Endpoint(0, lambda: (state["ok"], {"status": "ok" if state["ok"] else "down"}))
    base = f"http://127.0.0.1:{endpoint.port}"
    try:
        connector_metrics.RECORDS_READ.labels("unit-endpoint").inc(3)
        status, body = http_get(f"{base}/metrics")
        assert status == 200
        assert b'chorus_connector_records_read_total{connector="unit-endpoint"} 3.0' in body
        assert http_get(f"{base}/health") == (200, b'{"status": "ok"}')
        state["ok"] = False
        assert http_get(f"{base}/health") == (503, b'{"status": "down"}')
        assert http_get(f"{base}/other")[0] == 404
    finally:
        endpoint.close()


def test_a_failing_health_check_is_a_503_naming_only_the_error_type():
    def broken() -> tuple[bool, dict]:
        raise RuntimeError("secret detail")

    endpoint = Endpoint(0, broken)
    try:
        status, body = http_get(f"http://127.0.0.1:{endpoint.port}/health")
    finally:
        endpoint.close()
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "error": "RuntimeError"}


def test_connector_health_follows_its_last_success():
    assert connector_metrics.health("unit-never", 60)[0] is False
    assert "starting" in connector_metrics.health("unit-never", 60)[1]["status"]
    connector_metrics.LAST_SUCCESS.labels("unit-fresh").set(time.time() - 5)
    ok, body = connector_metrics.health("unit-fresh", 60)
    assert ok and body["status"] == "ok" and 4 <= body["seconds_since_success"] <= 60
    connector_metrics.LAST_SUCCESS.labels("unit-stale").set(time.time() - 600)
    ok, body = connector_metrics.health("unit-stale", 60)
    assert not ok and body["status"].startswith("stalled")


class FakeKafkaConsumer:
    def __init__(self, assigned: dict[TopicPartition, tuple[int, int]]) -> None:
        self.assigned = assigned  # partition -> (high-water mark, position)

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int:
        return self.assigned[tp][0]

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        return self.assigned[tp][1]


def test_a_sink_probe_counts_reads_by_topic_reports_lag_and_health():
    probe = metrics.SinkProbe("unit-sink", prefix="p1.")
    assert probe.health()[0] is False  # not polled yet
    tp = TopicPartition("p1.chorus.ledger", 2)
    records = [SimpleNamespace(topic="p1.chorus.ledger")] * 4
    probe.polled(FakeKafkaConsumer({tp: (50, 20)}), records)
    assert value("chorus_sink_messages_read_total", sink="unit-sink", topic="chorus.ledger") == 4
    lag = value(
        "chorus_sink_consumer_lag_messages", sink="unit-sink", topic="chorus.ledger", partition="2"
    )
    assert lag == 30
    ok, body = probe.health()
    assert ok and body["assigned_partitions"] == 1
    probe.committed(written=4, rejected=1)
    assert value("chorus_sink_rows_written_total", sink="unit-sink") == 4
    assert value("chorus_sink_rejected_total", sink="unit-sink") == 1
    probe.polled(FakeKafkaConsumer({}), [])
    assert probe.health() == (False, {**body, "assigned_partitions": 0, "status": "unavailable"})


def test_decisions_are_counted_per_batch_by_purpose_and_outcome():
    before = value("chorus_gatekeeper_decisions_total", purpose="unit_p", outcome="NOT_SHARED")
    decided = Counter({("unit_p", True): 5, ("unit_p", False): 2})
    metrics.record_decisions(decided)
    assert not decided  # emptied for the next batch
    assert value("chorus_gatekeeper_decisions_total", purpose="unit_p", outcome="SHARED") == 5
    after = value("chorus_gatekeeper_decisions_total", purpose="unit_p", outcome="NOT_SHARED")
    assert after - before == 2


def cell(*statuses: str) -> dict:
    return {
        "measures": [
            {"status": s, "suppression": "SMALL_COUNT" if s == "SUPPRESSED" else None}
            for s in statuses
        ]
    }


def test_a_publication_counts_cells_suppressions_and_inclusion_delays():
    now = time.time()
    stamps = [int((now - 2.0) * 1000), int((now - 2.0) * 1000), int((now - 40.0) * 1000)]
    metrics.taken_in("unit_agg", stamps)
    cells = [cell("PUBLISHED"), cell("SUPPRESSED", "SUPPRESSED"), cell("PUBLISHED", "SUPPRESSED")]
    metrics.record_publication("unit_agg", cells, now)
    assert value("chorus_aggregate_cells_published_total", aggregate="unit_agg") == 3
    assert value("chorus_aggregate_cells_suppressed_total", aggregate="unit_agg") == 2
    suppressed = value(
        "chorus_aggregate_measures_suppressed_total", aggregate="unit_agg", reason="SMALL_COUNT"
    )
    assert suppressed == 3
    delay = "chorus_aggregate_inclusion_delay_seconds"
    assert value(f"{delay}_count", aggregate="unit_agg") == 3
    assert value(f"{delay}_bucket", aggregate="unit_agg", le="3.0") == 2
    assert 40 < value(f"{delay}_sum", aggregate="unit_agg") < 45
    assert value("chorus_aggregate_last_publication_timestamp_seconds", aggregate="unit_agg") == now
    metrics.record_publication("unit_agg", [], now + 1)  # observed once only
    assert value(f"{delay}_count", aggregate="unit_agg") == 3


def test_inclusion_delays_in_bulk_match_prometheus_histogram_observed_one_by_one():
    delays = [0.0, 0.25, 0.26, 1.0, 2.999, 3.0, 4.2, 1800.0, 1800.5, 7200.0]
    counts = [1, 3, 2, 5, 1, 4, 2, 1, 2, 3]
    bulk = metrics.InclusionDelays()
    reference = CollectorRegistry()
    one_by_one = Histogram(
        bulk.name, bulk.doc, ["aggregate"], buckets=bulk.buckets, registry=reference
    )
    for delay, n in zip(delays, counts, strict=True):
        bulk.observe("unit_bulk", delay, n)
        for _ in range(n):
            one_by_one.labels("unit_bulk").observe(delay)
    ours = CollectorRegistry()
    ours.register(bulk)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in reference.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }
    assert len(samples) == len(bulk.buckets) + 3  # buckets, +Inf, count and sum
    for (name, labels), expected in samples.items():
        assert ours.get_sample_value(name, dict(labels)) == expected, (name, labels)


def test_the_worker_collector_reads_faust_and_the_policy_client_when_scraped():
    prefix = "p2."
    linked, changelog = (
        TopicPartition(f"{prefix}chorus.linked", 0),
        TopicPartition("x-changelog", 0),
    )
    monitor = SimpleNamespace(
        messages_received_by_topic=Counter({f"{prefix}chorus.linked": 7}),
        messages_sent_by_topic=Counter({f"{prefix}chorus.quality": 1}),
        tp_committed_offsets={linked: 90},
        tp_read_offsets={},
    )
    consumer = FakeKafkaConsumer({linked: (100, 0), changelog: (500, 0)})
    app = SimpleNamespace(monitor=monitor, _consumer=consumer)
    policy = SimpleNamespace(stats=CacheStats(hits=8, misses=2))
    collector = metrics.WorkerCollector()
    collector.bind(app, policy, prefix)
    metrics.record_sent([f"{prefix}chorus.ledger"] * 3)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in collector.collect()
        for s in family.samples
    }
    assert samples[("chorus_worker_events_in_total", (("topic", "chorus.linked"),))] == 7
    assert samples[("chorus_worker_events_out_total", (("topic", "chorus.ledger"),))] >= 3
    assert samples[("chorus_worker_events_out_total", (("topic", "chorus.quality"),))] == 1
    lag = [k for k in samples if k[0] == "chorus_worker_consumer_lag_messages"]
    assert lag == [
        ("chorus_worker_consumer_lag_messages", (("partition", "0"), ("topic", "chorus.linked")))
    ]
    assert samples[lag[0]] == 10
    assert samples[("chorus_worker_assigned_partitions", ())] == 2
    assert samples[("chorus_gatekeeper_decision_cache_hits_total", ())] == 8
    assert samples[("chorus_gatekeeper_decision_cache_misses_total", ())] == 2
