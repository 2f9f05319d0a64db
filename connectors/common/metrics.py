"""Prometheus metrics of connectors. Labels are connector names, event types and rule ids only.

Events out per topic: each event type has one source topic
(``chorus.source.<domain>.<event>``), so ``event_type`` names it.
`chorus connector run CONFIG --metrics-port N` serves these on /metrics, and
:func:`health` on /health (deploy/observability.py).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge

RECORDS_READ = Counter("chorus_connector_records_read", "Source records read.", ["connector"])
EVENTS_PUBLISHED = Counter(
    "chorus_connector_events_published",
    "Events acknowledged by Kafka.",
    ["connector", "event_type"],
)
DEAD_LETTERED = Counter(
    "chorus_connector_dead_letters", "Records sent to the dead-letter topic.", ["connector", "rule"]
)
RETRIES = Counter(
    "chorus_connector_retries",
    "Batches retried because the source or Kafka was unavailable.",
    ["connector", "cause"],
)
LAG = Gauge("chorus_connector_lag_records", "Source records not yet published.", ["connector"])
LAST_SUCCESS = Gauge(
    "chorus_connector_last_success_timestamp_seconds",
    "Unix time of the last batch acknowledged by Kafka (or of the last idle poll).",
    ["connector"],
)


def last_success(connector: str) -> float | None:
    """Unix time of the connector's last acknowledged batch or idle poll, if any yet."""
    for metric in LAST_SUCCESS.collect():
        for sample in metric.samples:
            if sample.labels.get("connector") == connector and sample.value > 0:
                return sample.value
    return None


def health(connector: str, stale_after_s: float) -> tuple[bool, dict[str, Any]]:
    """Healthy while the connector has reached its source and Kafka within `stale_after_s`
    (a batch acknowledged, or a poll that found nothing new); retrying counts as unhealthy."""
    last = last_success(connector)
    age = None if last is None else max(0.0, time.time() - last)
    ok = age is not None and age <= stale_after_s
    if ok:
        status = "ok"
    elif age is None:
        status = "starting: no batch acknowledged and no idle poll yet"
    else:
        status = "stalled: source or Kafka unavailable, retrying"
    return ok, {
        "status": status,
        "connector": connector,
        "seconds_since_success": None if age is None else round(age, 1),
    }
