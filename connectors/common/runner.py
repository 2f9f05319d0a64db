"""Runs any connector: publish each batch, then store the position; retry when things are down.

The order is the whole guarantee: a batch's events (and its dead letters) are
sent with an idempotent acks=all producer, every acknowledgement is awaited, and
only then is the new position written (fsync + rename). A crash in between
re-publishes events whose ids are deterministic, which downstream stages treat
as the same event. When the source or Kafka is down, the runner waits with
exponential backoff and resumes by itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.common import metrics
from connectors.common.base import Connector, Coordinates, Mapped, Rejected, SourceUnavailable
from connectors.common.dead_letters import dead_letter_message, log_dead_letters
from connectors.common.positions import PositionStore
from connectors.common.publisher import Message, Publisher, PublishError
from connectors.common.settings import kafka_security_of
from schemas import topics
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.garbage import fewer_collections

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0
LAG_EVERY_S = 10.0
EVENT_TYPE_HEADER = "chorus-event-type"


@dataclass
class RunStats:
    read: int = 0
    published: int = 0
    dead_lettered: int = 0
    batches: int = 0
    retries: int = 0
    seconds: float = 0.0
    by_event_type: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def source_topic_for(event_type: str, prefix: str) -> str:
    domain, event = event_type.split(".", 1)
    return topics.source_topic(domain, event, prefix)


class ConnectorRunner:
    """Publishes what a connector reads, and remembers how far it got."""

    def __init__(self, connector: Connector, codec: Codec | None = None) -> None:
        self.connector = connector
        self.codec = codec or Codec()
        s = connector.settings
        self.name: str = s["name"]
        self.prefix: str = s["topic_prefix"]
        self.batch_size: int = s["batch_size"]
        self.poll_interval_s: float = s["poll_interval_s"]
        state = Path(s["state_dir"])
        self.positions = PositionStore(state / f"{self.name}.position.json")
        self.totals = PositionStore(state / f"{self.name}.status.json")
        # Read once, then kept in memory: this runner is the only writer of both files.
        self._position: dict[str, Any] | None = None
        self._position_read = False
        self._totals: dict[str, Any] | None = None
        self.dlq_topic = topics.dlq_topic("connector", self.prefix)
        self._publisher: Publisher | None = None
        self._lag_at = 0.0
        # Per event type: its source topic and the header naming it, built once.
        self._routes: dict[str, tuple[str, tuple[tuple[str, bytes], ...]]] = {}

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(
                self.connector.settings["kafka_bootstrap"],
                f"chorus-{self.name}",
                kafka_security_of(self.connector.settings),
            )
        return self._publisher

    def position(self) -> dict[str, Any] | None:
        if not self._position_read:
            self._position, self._position_read = self.positions.load(), True
        return self._position

    def lag(self) -> int:
        return self.connector.lag(self.position())

    def messages(self, items: list[Mapped | Rejected], stats: RunStats) -> list[Message]:
        """Encode events; anything that does not fit its schema is dead-lettered instead."""
        out: list[Message] = []
        rejected: list[Rejected] = []
        for item in items:
            if isinstance(item, Mapped):
                try:
                    value = self.codec.encode(item.event_type, item.record)
                except (ContractError, ValueError, TypeError, KeyError) as exc:
                    error = (
                        exc
                        if isinstance(exc, ContractError)
                        else ContractError(
                            "avro.encode",
                            f"the mapped record does not fit its schema ({type(exc).__name__})",
                        )
                    )
                    src = item.record.get("envelope", {}).get("source_record") or {}
                    item = Rejected(
                        coordinates=_coordinates(src),
                        error=error,
                        payload=b"",
                        payload_format="bytes",
                        event_type=item.event_type,
                    )
                else:
                    route = self._routes.get(item.event_type)
                    if route is None:
                        route = self._routes[item.event_type] = (
                            source_topic_for(item.event_type, self.prefix),
                            ((EVENT_TYPE_HEADER, item.event_type.encode()),),
                        )
                    out.append(Message(route[0], item.key, value, route[1]))
                    stats.published += 1
                    stats.by_event_type[item.event_type] += 1
                    continue
            out.append(dead_letter_message(self.codec, self.dlq_topic, self.name, item))
            rejected.append(item)
            stats.dead_lettered += 1
            stats.by_rule[item.error.rule] += 1
        log_dead_letters(self.name, rejected)
        return out

    def run_batch(self, stats: RunStats) -> int:
        """Publish one batch; returns how many source records it covered (0 when idle)."""
        batch = self.connector.read(self.position(), self.batch_size)
        if batch is None:
            return 0
        before = dataclasses.replace(
            stats, by_event_type=Counter(stats.by_event_type), by_rule=Counter(stats.by_rule)
        )
        messages = self.messages(batch.items, stats)
        try:
            self.publisher.publish(messages)
        except BaseException:
            _restore(stats, before)
            raise
        self.positions.save(batch.position)
        self._position, self._position_read = batch.position, True
        stats.read += batch.read
        stats.batches += 1
        self._record(stats, before, batch.read)
        return max(batch.read, 1)

    def _record(self, stats: RunStats, before: RunStats, read: int) -> None:
        metrics.RECORDS_READ.labels(self.name).inc(read)
        for event_type, n in (stats.by_event_type - before.by_event_type).items():
            metrics.EVENTS_PUBLISHED.labels(self.name, event_type).inc(n)
        for rule, n in (stats.by_rule - before.by_rule).items():
            metrics.DEAD_LETTERED.labels(self.name, rule).inc(n)
        now = time.time()
        metrics.LAST_SUCCESS.labels(self.name).set(now)
        if self._totals is None:
            self._totals = self.totals.load() or {}
        totals = self._totals
        by_rule = Counter(totals.get("dead_lettered_by_rule", {}))
        by_rule.update(stats.by_rule - before.by_rule)
        self._totals = {
            "read": totals.get("read", 0) + read,
            "published": totals.get("published", 0) + stats.published - before.published,
            "dead_lettered": totals.get("dead_lettered", 0)
            + stats.dead_lettered
            - before.dead_lettered,
            "dead_lettered_by_rule": dict(by_rule),
            "retries": totals.get("retries", 0) + stats.retries - before.retries,
            "last_success": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
        }
        self.totals.save(self._totals)

    def _update_lag(self, force: bool = False) -> None:
        if force or time.monotonic() - self._lag_at > LAG_EVERY_S:
            self._lag_at = time.monotonic()
            with contextlib.suppress(SourceUnavailable):
                metrics.LAG.labels(self.name).set(self.lag())

    def run(self, stop: threading.Event | None = None, until_idle: bool = False) -> RunStats:
        """Run until stopped (or, with until_idle, until nothing is new), retrying with backoff."""
        with fewer_collections():
            return self._run(stop or threading.Event(), until_idle)

    def _run(self, stop: threading.Event, until_idle: bool) -> RunStats:
        stats = RunStats()
        started = time.monotonic()
        backoff = 1.0
        while not stop.is_set():
            try:
                n = self.run_batch(stats)
                backoff = 1.0
            except (PublishError, SourceUnavailable, OSError) as exc:
                cause = "source" if isinstance(exc, SourceUnavailable) else "kafka"
                log.warning(
                    "%s: %s unavailable (%s); retrying in %.0fs",
                    self.name,
                    cause,
                    type(exc).__name__,
                    backoff,
                )
                stats.retries += 1
                stats.errors.append(f"{cause}: {type(exc).__name__}")
                metrics.RETRIES.labels(self.name, cause).inc()
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            self._update_lag(force=n == 0)
            if n == 0:
                metrics.LAST_SUCCESS.labels(self.name).set(time.time())
                if until_idle:
                    break
                stop.wait(self.poll_interval_s)
        stats.seconds = time.monotonic() - started
        return stats

    def status(self) -> dict[str, Any]:
        """Position, lag and counts, for `chorus connector status`."""
        totals = self.totals.load() or {}
        try:
            lag: int | str = self.lag()
        except SourceUnavailable as exc:
            lag = f"unknown (source unavailable: {exc})"
        return {"position": self.position(), "lag": lag, **totals}

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        self.connector.close()


def _coordinates(src: dict[str, Any]) -> Coordinates:
    return Coordinates(
        str(src.get("entity", "unknown")), str(src.get("key", "")), str(src.get("version", ""))
    )


def _restore(stats: RunStats, before: RunStats) -> None:
    for f in dataclasses.fields(RunStats):
        setattr(stats, f.name, getattr(before, f.name))
