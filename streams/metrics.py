"""Prometheus metrics of the stream worker (identity, gatekeeper, aggregates).

Labels are topic names (without the environment's topic prefix, so one dashboard
serves every environment), stages, rule ids, purposes, outcomes and aggregate
names: never anything about a person.

The hot paths pay almost nothing: events in and out per topic, consumer lag and
the decision cache's hits are read from what faust's monitor and the policy
client count anyway, when Prometheus scrapes (``WorkerCollector``); the
gatekeeper counts its decisions per batch; the aggregates count at each
publication. Serving: streams/web.py (the worker's own web server).
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

# --- gatekeeper ---------------------------------------------------------------------------

DECISIONS = Counter(
    "chorus_gatekeeper_decisions",
    "Sharing decisions made, by purpose and outcome (SHARED or NOT_SHARED).",
    ["purpose", "outcome"],
)
_decision_children: dict[tuple[str, bool], Any] = {}


def record_decisions(decided: Tally[tuple[str, bool]]) -> None:
    """Add a batch's decisions, counted as (purpose, allowed) -> n, then forget them."""
    for (purpose, allowed), n in decided.items():
        child = _decision_children.get((purpose, allowed))
        if child is None:
            outcome = "SHARED" if allowed else "NOT_SHARED"
            child = _decision_children[(purpose, allowed)] = DECISIONS.labels(purpose, outcome)
        child.inc(n)
    decided.clear()


_direct_sent: Tally[str] = Tally()  # messages the gatekeeper sends past faust's producer API
_direct_received: Tally[str] = Tally()  # messages the aggregates' intake reads past faust
_lag_sources: list[Callable[[], Iterable[tuple[str, int, int]]]] = []


def record_received(topics: Iterable[str]) -> None:
    """Count messages read by a consumer of the worker's own (faust does not see them)."""
    _direct_received.update(topics)


def add_lag_source(source: Callable[[], Iterable[tuple[str, int, int]]]) -> None:
    """A consumer of the worker's own, reporting (topic, partition, lag) when scraped."""
    _lag_sources.append(source)


def record_sent(topics: Iterable[str]) -> None:
    """Count messages sent straight through the producer client (faust does not see them)."""
    _direct_sent.update(topics)


# --- dead letters -------------------------------------------------------------------------

DEAD_LETTERS = Counter(
    "chorus_worker_dead_letters",
    "Events a stream stage sent to its dead-letter topic, by stage and rule broken.",
    ["stage", "rule"],
)

# --- aggregates ---------------------------------------------------------------------------

CELLS_PUBLISHED = Counter(
    "chorus_aggregate_cells_published",
    "Cells published (only cells whose published form changed are sent).",
    ["aggregate"],
)
CELLS_SUPPRESSED = Counter(
    "chorus_aggregate_cells_suppressed",
    "Published cells with at least one suppressed measure.",
    ["aggregate"],
)
MEASURES_SUPPRESSED = Counter(
    "chorus_aggregate_measures_suppressed",
    "Suppressed measures in published cells, by disclosure rule (reason).",
    ["aggregate", "reason"],
)
LAST_PUBLICATION = Gauge(
    "chorus_aggregate_last_publication_timestamp_seconds",
    "Unix time of the aggregate's last publication tick that had usable disclosure rules.",
    ["aggregate"],
)


class InclusionDelays:
    """``chorus_aggregate_inclusion_delay_seconds{aggregate}``, a histogram observed in bulk.

    prometheus_client's Histogram takes one value per call, under a lock; a publication
    observes one delay per event taken in (a few hundred thousand when a worker catches
    up), most of them equal to the centisecond, so the buckets are kept here and a
    delay is added with its count.
    """

    name = "chorus_aggregate_inclusion_delay_seconds"
    doc = (
        "From an event's Kafka timestamp on the aggregate's input topic to the first "
        "publication after the aggregate's cells took it in."
    )
    buckets = (0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800)

    def __init__(self) -> None:
        self._lock = threading.Lock()  # scrapes come from the web server's thread
        self._series: dict[str, tuple[list[int], list[float]]] = {}  # counts, [sum]

    def observe(self, aggregate: str, delay: float, count: int = 1) -> None:
        with self._lock:
            counts, total = self._series.setdefault(
                aggregate, ([0] * (len(self.buckets) + 1), [0.0])
            )
            counts[bisect.bisect_left(self.buckets, delay)] += count  # le: upper bound kept
            total[0] += delay * count

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.doc, labels=["aggregate"])
        with self._lock:
            series = {a: (list(c), t[0]) for a, (c, t) in self._series.items()}
        bounds = [floatToGoString(b) for b in self.buckets] + ["+Inf"]
        for aggregate, (counts, total) in sorted(series.items()):
            cumulative = list(itertools.accumulate(counts))
            family.add_metric([aggregate], list(zip(bounds, cumulative, strict=True)), total)
        yield family


INCLUSION_DELAY = InclusionDelays()
REGISTRY.register(INCLUSION_DELAY)
_MAX_PENDING = 100_000  # distinct centiseconds kept per aggregate while nothing is published
_pending: dict[str, Tally[int]] = {}


def taken_in(aggregate: str, timestamps_ms: Iterable[int]) -> None:
    """The cells took in events with these Kafka timestamps (milliseconds); the next
    publication observes their inclusion delays (kept to the centisecond, with counts)."""
    pending = _pending.setdefault(aggregate, Tally())
    if len(pending) >= _MAX_PENDING:
        return
    pending.update([t // 10 for t in timestamps_ms if t])


def record_publication(aggregate: str, cells: Sequence[dict[str, Any]], now: float) -> None:
    """A publication tick: the cells sent, their suppressions, and the inclusion delays."""
    if cells:
        CELLS_PUBLISHED.labels(aggregate).inc(len(cells))
        suppressed = 0
        reasons: Tally[str] = Tally()
        for cell in cells:
            found = [m["suppression"] for m in cell["measures"] if m["status"] == "SUPPRESSED"]
            suppressed += bool(found)
            reasons.update(str(r) for r in found)
        if suppressed:
            CELLS_SUPPRESSED.labels(aggregate).inc(suppressed)
        for reason, n in reasons.items():
            MEASURES_SUPPRESSED.labels(aggregate, reason).inc(n)
    LAST_PUBLICATION.labels(aggregate).set(now)
    pending = _pending.pop(aggregate, None)
    if pending:
        for cs, n in pending.items():
            INCLUSION_DELAY.observe(aggregate, max(0.0, now - cs / 100), n)


# --- read when scraped: events in and out, lag, the decision cache ------------------------


class WorkerCollector:
    """Series read from the worker's faust app and policy client when Prometheus scrapes."""

    def __init__(self) -> None:
        self.app: Any = None
        self.policy: Any = None
        self.prefix = ""

    def bind(self, app: Any, policy: Any, prefix: str) -> None:
        self.app, self.policy, self.prefix = app, policy, prefix

    def topic(self, name: str) -> str:
        return name[len(self.prefix) :] if self.prefix and name.startswith(self.prefix) else name

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        yield from self._families(self.app, self.policy)

    def _families(self, app: Any = None, policy: Any = None) -> Iterator[Metric]:
        received = CounterMetricFamily(
            "chorus_worker_events_in",
            "Messages the worker consumed, by topic.",
            labels=["topic"],
        )
        sent = CounterMetricFamily(
            "chorus_worker_events_out",
            "Messages the worker produced, by topic (shares, ledger, links, cells, changelogs).",
            labels=["topic"],
        )
        lag = GaugeMetricFamily(
            "chorus_worker_consumer_lag_messages",
            "Messages on an assigned partition not yet committed by the worker "
            "(last known high-water mark minus committed offset).",
            labels=["topic", "partition"],
        )
        assigned = GaugeMetricFamily(
            "chorus_worker_assigned_partitions", "Partitions assigned to the worker's consumer."
        )
        hits = CounterMetricFamily(
            "chorus_gatekeeper_decision_cache_hits", "Decisions answered from the cache."
        )
        misses = CounterMetricFamily(
            "chorus_gatekeeper_decision_cache_misses", "Decisions that asked OPA."
        )
        if app is not None:
            monitor = app.monitor
            into = Tally(monitor.messages_received_by_topic)
            into.update(_direct_received)
            for topic, n in into.items():
                received.add_metric([self.topic(topic)], n)
            out = Tally(monitor.messages_sent_by_topic)
            out.update(_direct_sent)
            for topic, n in out.items():
                sent.add_metric([self.topic(topic)], n)
            tps = self._lag(app, lag)
            for source in _lag_sources:
                for topic, partition, behind in source():
                    lag.add_metric([self.topic(topic), str(partition)], behind)
                    tps += 1
            assigned.add_metric([], tps)
        if policy is not None:
            hits.add_metric([], policy.stats.hits)
            misses.add_metric([], policy.stats.misses)
        yield from (received, sent, lag, assigned, hits, misses)

    def _lag(self, app: Any, family: GaugeMetricFamily) -> int:
        """Adds each input partition's lag; returns how many partitions are assigned."""
        consumer = getattr(app, "_consumer", None)  # not created before the worker starts
        if consumer is None:
            return 0
        try:
            partitions = consumer.assignment()
        except Exception:  # noqa: BLE001 - a scrape must not fail while the consumer starts
            return 0
        committed = app.monitor.tp_committed_offsets
        for tp in sorted(partitions):
            if tp.topic.endswith("-changelog"):
                continue  # tables' changelogs are read for recovery only, never committed
            try:
                high = consumer.highwater(tp)
            except Exception:  # noqa: BLE001 - not fetched yet
                high = None
            if high is None:
                continue
            done = committed.get(tp)
            if done is None:
                read = app.monitor.tp_read_offsets.get(tp)
                done = read + 1 if read is not None else high if high == 0 else None
            if done is not None:
                family.add_metric([self.topic(tp.topic), str(tp.partition)], max(0, high - done))
        return len(partitions)


WORKER = WorkerCollector()
REGISTRY.register(WORKER)

# --- the sinks (ledger, aggregates): plain kafka-python consumers -------------------------

SINK_READ = Counter(
    "chorus_sink_messages_read", "Messages a sink read, by topic.", ["sink", "topic"]
)
SINK_WRITTEN = Counter(
    "chorus_sink_rows_written",
    "Rows (ledger entries, cells) a sink offered its database.",
    ["sink"],
)
SINK_REJECTED = Counter(
    "chorus_sink_rejected",
    "Messages a sink kept aside as not what the topic should hold (never dropped).",
    ["sink"],
)
SINK_LAG = Gauge(
    "chorus_sink_consumer_lag_messages",
    "Messages on an assigned partition the sink has not read yet (high-water mark minus position).",
    ["sink", "topic", "partition"],
)
SINK_LAST_COMMIT = Gauge(
    "chorus_sink_last_commit_timestamp_seconds",
    "Unix time of the sink's last database transaction followed by an offset commit.",
    ["sink"],
)
LAG_EVERY_S = 5.0


class SinkProbe:
    """What a sink's loop tells its metrics and its health endpoint.

    Called from the sink's own thread only (a kafka-python consumer is not thread-safe);
    the health endpoint reads the plain values it leaves here.
    """

    def __init__(self, sink: str, prefix: str = "", stale_after_s: float = 60.0) -> None:
        self.sink = sink
        self.prefix = prefix
        self.stale_after_s = stale_after_s
        self.last_poll: float | None = None
        self.assigned = 0
        self._lag_at = 0.0
        self._read: dict[str, Any] = {}

    def topic(self, name: str) -> str:
        return name[len(self.prefix) :] if self.prefix and name.startswith(self.prefix) else name

    def polled(self, consumer: Any, records: Sequence[Any]) -> None:
        """After each poll: messages read by topic, assignment, and (now and then) lag."""
        self.last_poll = time.monotonic()
        for topic, n in Tally(r.topic for r in records).items():
            child = self._read.get(topic)
            if child is None:
                child = self._read[topic] = SINK_READ.labels(self.sink, self.topic(topic))
            child.inc(n)
        try:
            partitions = consumer.assignment() or set()
        except Exception:  # noqa: BLE001 - an assignment in flux reads as none
            partitions = set()
        self.assigned = len(partitions)
        # Tried after every poll until a lag is known (the first polls may have no assignment
        # or fetch position yet), then every LAG_EVERY_S.
        if self.last_poll - self._lag_at >= LAG_EVERY_S and self._update_lag(consumer, partitions):
            self._lag_at = self.last_poll

    def _update_lag(self, consumer: Any, partitions: Iterable[Any]) -> int:
        """Sets the lag of each partition whose position is known; returns how many."""
        known = 0
        for tp in partitions:
            try:
                high = consumer.highwater(tp)
                position = consumer.position(tp, timeout_ms=0)  # known after a poll: no I/O
            except Exception:  # noqa: BLE001 - unknown until the first fetch
                continue
            if high is not None and position is not None:
                SINK_LAG.labels(self.sink, self.topic(tp.topic), str(tp.partition)).set(
                    max(0, high - position)
                )
                known += 1
        return known

    def committed(self, written: int, rejected: int = 0) -> None:
        """After a batch's transaction and offset commit."""
        if written:
            SINK_WRITTEN.labels(self.sink).inc(written)
        if rejected:
            SINK_REJECTED.labels(self.sink).inc(rejected)
        SINK_LAST_COMMIT.labels(self.sink).set(time.time())

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when it polled lately and the group gave it partitions."""
        age = None if self.last_poll is None else time.monotonic() - self.last_poll
        ok = age is not None and age < self.stale_after_s and self.assigned > 0
        body = {
            "status": "ok" if ok else "unavailable",
            "sink": self.sink,
            "assigned_partitions": self.assigned,
            "seconds_since_poll": None if age is None else round(age, 1),
        }
        return ok, body
