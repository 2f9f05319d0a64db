"""Every long-running process serves /metrics and /health, and its key series move when
events flow: a connector (`--metrics-port`), a worker with every role (its web port) and
both sinks, on the real stack, scraped before and after a small synthetic LA flows through,
and again after bad records are fed to the connector and to a source topic."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from schemas import topics
from schemas.topics import DEFAULT_PARTITIONS
from streams.aggregates import registry
from tests.integration.flow import insert_bad_referrals, source_counts, synthetic_la
from tests.integration.harness import Namespace, free_port

pytestmark = pytest.mark.integration
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REFERRALS = "chorus.source.case_management.referral"


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    except OSError:
        return 0, {}  # not listening yet


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a series over every label set that includes `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(ls) for n, ls in samples if n == name]


def start(ns: Namespace, log: Path, *args: str) -> subprocess.Popen:
    """`chorus ARGS` in the namespace, stopped (by its PID) when the test ends."""
    return ns.start_chorus(log, *args)


def connector_config(ns: Namespace, url: str, tmp: Path) -> Path:
    path = tmp / "connector.yaml"
    settings = {
        "connector": "case_management",
        "name": "lcs-metrics",
        "source_url": url,
        "source_system": "LIQUIDLOGIC_LCS",
        "la_code": "999",
        "kafka_bootstrap": ns.stack.bootstrap,
        "topic_prefix": ns.prefix,
        "state_dir": str(tmp / "connectors"),
        "batch_size": 500,
        "poll_interval_s": 1,
    }
    path.write_text(yaml.safe_dump(settings))
    return path


def create_worker_topics(ns: Namespace, app_id: str) -> None:
    """The worker's internal topics, made before it starts.

    A fresh worker creates them itself, and on a busy broker its first assignment can
    come before they are in its metadata: a faust table then holds no partition of its
    changelog until a metadata refresh minutes later. That start-up race is not what this
    test is about.
    """
    tables = ["identity-links", "identity-persons", "gatekeeper-subjects"]
    for agg in registry.AGGREGATES:
        tables += [f"{agg.name}-contributions", f"{agg.name}-cell-keys"]
    compact = {"cleanup.policy": "compact"}
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    try:
        admin.create_topics(
            [
                NewTopic(f"{app_id}-{t}-changelog", DEFAULT_PARTITIONS, 1, topic_configs=compact)
                for t in tables
            ]
        )
        wanted = {f"{app_id}-{t}-changelog" for t in tables}
        ns.poll(lambda: wanted <= set(admin.list_topics()) or None, 60, "worker topics")
    finally:
        admin.close()


def healthy(ns: Namespace, port: int, what: str, deadline_s: float = 120) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        status, body = health(port)
        return body if status == 200 else None

    return ns.poll(check, deadline_s, what)


def scraped_when(
    ns: Namespace, port: int, ready: Callable[[Samples], bool], deadline_s: float, what: str
) -> Samples:
    """Scrape `port` until `ready` holds of what it says; those samples."""

    def check() -> Samples | None:
        samples = scrape(port)
        return samples if ready(samples) else None

    return ns.poll(check, deadline_s, what)


def test_every_process_serves_metrics_and_health_and_the_key_series_move(namespace, tmp_path):
    ns = namespace
    url = synthetic_la(tmp_path / "la.db", children=150, seed=5)
    referrals = sum(source_counts(tmp_path / "la.db").values())
    assert referrals > 20
    ledger_port, agg_port, connector_port = (free_port() for _ in range(3))
    create_worker_topics(ns, ns.app_id("it-metrics"))
    worker = ns.start_worker("it-metrics", tmp_path / "worker.log")
    worker_port = int(worker.args[worker.args.index("--web-port") + 1])
    ledger_db = f"sqlite:///{tmp_path / 'ledger.db'}"
    start(
        ns,
        tmp_path / "ledger.log",
        "ledger",
        "sink",
        "--db",
        ledger_db,
        "--metrics-port",
        str(ledger_port),
    )
    cells_db = f"sqlite:///{tmp_path / 'cells.db'}"
    start(
        ns, tmp_path / "agg.log", "agg", "sink", "--url", cells_db, "--metrics-port", str(agg_port)
    )

    # Before any event: each process is healthy, and nothing has been counted.
    body = healthy(ns, worker_port, "worker /health 200 (partitions assigned, tables recovered)")
    assert body["assigned_partitions"] > 0 and set(body["roles"]) == {
        "identity",
        "gatekeeper",
        "aggregates",
    }
    assert healthy(ns, ledger_port, "ledger sink /health 200")["sink"] == "ledger"
    assert healthy(ns, agg_port, "agg sink /health 200")["sink"] == "aggregates"
    before = scrape(worker_port)
    assert total(before, "chorus_worker_events_in_total", topic=REFERRALS) == 0
    assert total(before, "chorus_gatekeeper_decisions_total") == 0
    assert total(before, "chorus_aggregate_inclusion_delay_seconds_count") == 0
    ledger_before = scrape(ledger_port)
    assert total(ledger_before, "chorus_sink_messages_read_total") == 0

    # Events flow: the connector publishes the LA, the worker shares and aggregates them.
    config = str(connector_config(ns, url, tmp_path))
    start(
        ns,
        tmp_path / "connector.log",
        "connector",
        "run",
        config,
        "--metrics-port",
        str(connector_port),
    )
    assert healthy(ns, connector_port, "connector /health 200")["connector"] == "lcs-metrics"
    referral = "case_management.referral"
    conn = scraped_when(
        ns,
        connector_port,
        lambda s: (
            total(s, "chorus_connector_events_published_total", event_type=referral) == referrals
        ),
        120,
        "the connector to publish every referral of the LA",
    )
    published = total(conn, "chorus_connector_events_published_total", connector="lcs-metrics")
    assert total(conn, "chorus_connector_records_read_total") >= published >= referrals
    assert total(conn, "chorus_connector_last_success_timestamp_seconds") > 0

    scraped_when(
        ns,
        worker_port,
        lambda s: (
            total(s, "chorus_worker_events_in_total", topic=REFERRALS) >= referrals
            and total(s, "chorus_aggregate_inclusion_delay_seconds_count") > 0
        ),
        240,
        "the worker to take in every referral and publish cells",
    )

    def decided_all() -> tuple[int, Samples] | None:
        entries = len(ns.read_all(topics.ledger_topic(ns.prefix)))
        samples = scrape(worker_port)
        done = entries and total(samples, "chorus_gatekeeper_decisions_total") == entries
        return (entries, samples) if done else None

    ledger_entries, after = ns.poll(decided_all, 120, "a decision counted per ledger entry")
    assert total(after, "chorus_worker_events_out_total", topic="chorus.linked") >= published
    assert total(after, "chorus_worker_events_out_total", topic="chorus.ledger") == ledger_entries
    shared = "chorus.share.strategic_reporting.referral"
    assert total(after, "chorus_worker_events_in_total", topic=shared) > 0
    assert total(after, "chorus_worker_events_out_total", topic=shared) > 0
    decisions = total(after, "chorus_gatekeeper_decisions_total")
    assert (
        total(
            after,
            "chorus_gatekeeper_decisions_total",
            purpose="strategic_reporting",
            outcome="SHARED",
        )
        > 0
    )
    assert total(after, "chorus_gatekeeper_decisions_total", outcome="NOT_SHARED") > 0
    hits = total(after, "chorus_gatekeeper_decision_cache_hits_total")
    misses = total(after, "chorus_gatekeeper_decision_cache_misses_total")
    assert hits > 0 and hits + misses == decisions
    lag = series(after, "chorus_worker_consumer_lag_messages")
    assert {"topic": REFERRALS, "partition": "0"} in lag
    assert not any(s["topic"].startswith(ns.prefix) for s in lag)  # labels without the prefix
    agg = "referrals_by_source"
    assert total(after, "chorus_aggregate_cells_published_total", aggregate=agg) > 0
    assert total(after, "chorus_aggregate_cells_suppressed_total", aggregate=agg) > 0
    assert total(after, "chorus_aggregate_measures_suppressed_total", aggregate=agg) > 0
    assert total(after, "chorus_aggregate_inclusion_delay_seconds_count", aggregate=agg) > 0
    assert total(after, "chorus_aggregate_inclusion_delay_seconds_sum", aggregate=agg) > 0
    assert total(after, "chorus_aggregate_last_publication_timestamp_seconds", aggregate=agg) > 0

    ledger = scraped_when(
        ns,
        ledger_port,
        lambda s: total(s, "chorus_sink_messages_read_total") == ledger_entries,
        120,
        "the ledger sink to read every entry",
    )
    assert total(ledger, "chorus_sink_messages_read_total", topic="chorus.ledger") == ledger_entries
    assert total(ledger, "chorus_sink_rows_written_total", sink="ledger") == ledger_entries
    assert total(ledger, "chorus_sink_last_commit_timestamp_seconds", sink="ledger") > 0
    cells = scraped_when(
        ns, agg_port, lambda s: total(s, "chorus_sink_rows_written_total") > 0, 120, "cells in SQL"
    )
    assert total(cells, "chorus_sink_messages_read_total", topic=f"chorus.agg.{agg}") > 0
    scraped_when(ns, agg_port, lambda s: series(s, "chorus_sink_consumer_lag_messages"), 60, "lag")

    # Bad input: rows breaking the contract at the connector, foreign bytes on a source topic.
    insert_bad_referrals(url)
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap)
    producer.send(
        topics.source_topic("case_management", "referral", ns.prefix),
        key=b"garbage",
        value=b"not avro at all",
    )
    producer.flush()
    producer.close()
    conn = scraped_when(
        ns,
        connector_port,
        lambda s: total(s, "chorus_connector_dead_letters_total") >= 3,
        60,
        "the connector to dead-letter the bad rows",
    )
    assert total(conn, "chorus_connector_dead_letters_total", rule="dates.order") == 1
    header = {"stage": "identity", "rule": "avro.single_object_header"}
    dead = scraped_when(
        ns,
        worker_port,
        lambda s: total(s, "chorus_worker_dead_letters_total", **header) > 0,
        60,
        "the worker to dead-letter the foreign bytes",
    )
    assert total(dead, "chorus_worker_dead_letters_total", **header) == 1
    for port in (worker_port, ledger_port, agg_port, connector_port):
        assert health(port)[0] == 200
