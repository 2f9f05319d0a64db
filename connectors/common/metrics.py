"""Prometheus metrics of connectors. Labels are connector names, event types and rule ids only."""

from __future__ import annotations

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
