"""The Grafana dashboard, the alert rules and the scrape configuration cannot drift from the
code: every series they name is one the code registers, and every query parses as PromQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

import connectors.common.metrics  # noqa: F401 - registers the connector's series
import streams.metrics  # noqa: F401 - registers the worker's and sinks' series

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "chorus.json"
ALERTS = MONITORING / "prometheus" / "alerts.yml"
SCRAPE = MONITORING / "prometheus" / "prometheus.yml"
GRAFANA_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "gauge": ("",),
}
BUILT_IN = {"up"}  # Prometheus's own, per scrape target


def registered_series() -> set[str]:
    """Every series name the imported modules can expose (labelled or not, sampled or not)."""
    names = set()
    for family in REGISTRY.collect():
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def selectors(node: Any) -> Iterator[str]:
    """The metric names a parsed PromQL expression selects."""
    if type(node).__name__ == "VectorSelector":
        yield node.name
        return
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from selectors(child)
    for arg in getattr(node, "args", None) or []:
        yield from selectors(arg)


def parse(expr: str) -> Any:
    for var, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(var, value)
    return promql_parser.parse(expr)


def dashboard_queries() -> list[tuple[str, str]]:
    doc = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in doc["panels"]
        for target in panel.get("targets", [])
    ]


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_the_dashboard_is_a_grafana_dashboard_on_a_prometheus_datasource_variable():
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["title"] and doc["schemaVersion"] >= 30
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    graphs = [p for p in doc["panels"] if p["type"] != "row"]
    assert len(graphs) >= 15
    for panel in graphs:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])


def test_the_dashboard_shows_every_key_series():
    used = {name for _, expr in dashboard_queries() for name in selectors(parse(expr))}
    key = {
        "chorus_connector_events_published_total",
        "chorus_connector_last_success_timestamp_seconds",
        "chorus_worker_events_in_total",
        "chorus_worker_events_out_total",
        "chorus_gatekeeper_decisions_total",
        "chorus_gatekeeper_decision_cache_hits_total",
        "chorus_gatekeeper_decision_cache_misses_total",
        "chorus_worker_dead_letters_total",
        "chorus_connector_dead_letters_total",
        "chorus_worker_consumer_lag_messages",
        "chorus_sink_consumer_lag_messages",
        "chorus_aggregate_cells_suppressed_total",
        "chorus_aggregate_inclusion_delay_seconds_bucket",
    }
    assert key <= used, sorted(key - used)


@pytest.mark.parametrize("title,expr", dashboard_queries())
def test_every_dashboard_query_parses_and_names_registered_series(title, expr):
    names = set(selectors(parse(expr)))
    assert names, title
    assert names <= registered_series() | BUILT_IN, sorted(names - registered_series())


def test_alert_rules_cover_lag_dead_letters_stalled_connectors_and_down_processes():
    rules = alert_rules()
    assert len({r["alert"] for r in rules}) == len(rules)
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule.get("alert")
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    watched = {name for rule in rules for name in selectors(parse(rule["expr"]))}
    assert "up" in watched
    assert {"chorus_worker_consumer_lag_messages", "chorus_sink_consumer_lag_messages"} <= watched
    assert {"chorus_worker_dead_letters_total", "chorus_connector_dead_letters_total"} <= watched
    assert "chorus_connector_last_success_timestamp_seconds" in watched


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_every_alert_parses_and_names_registered_series(rule):
    names = set(selectors(parse(rule["expr"])))
    assert names <= registered_series() | BUILT_IN, sorted(names - registered_series())


def test_the_scrape_config_loads_the_rules_and_scrapes_every_process():
    doc = yaml.safe_load(SCRAPE.read_text())
    assert (SCRAPE.parent / doc["rule_files"][0]) == ALERTS
    jobs = {job["job_name"]: job for job in doc["scrape_configs"]}
    assert set(jobs) == {
        "chorus-connector",
        "chorus-worker",
        "chorus-ledger-sink",
        "chorus-agg-sink",
    }
    for job in jobs.values():
        assert job["metrics_path"] == "/metrics"
        assert job["static_configs"][0]["targets"]
    # the alert on down processes matches these jobs
    down = next(r for r in alert_rules() if "up" in set(selectors(parse(r["expr"]))))
    assert 'job=~"chorus-.*"' in down["expr"]
