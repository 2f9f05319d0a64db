"""The dashboard's Kafka feed: every ``chorus.agg.*`` topic from the beginning, then live.

One aiokafka consumer, without a consumer group (it commits nothing and reads
every partition from the first offset each time the dashboard starts), decodes
each cell with the project's codec, keeps the latest cell per key in a
:class:`CellStore` and hands each batch's changes to the subscribers
(:class:`Hub`). A message that cannot be decoded is counted and skipped; its
coordinates are logged, never its content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge

from deploy.dashboard.cells import CellStore, Changes
from schemas import topics
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 1000
STALE_POLL_S = 10.0  # /health: the consumer must have polled more recently than this
SUBSCRIBER_QUEUE = 256  # events a slow subscriber may fall behind by before it is dropped


@dataclass
class Metrics:
    """The dashboard's Prometheus metrics, in a registry of its own."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.consumed = Counter(
            "chorus_dashboard_messages_consumed",
            "Messages read from the aggregate topics",
            ["topic"],
            registry=r,
        )
        self.undecodable = Counter(
            "chorus_dashboard_messages_undecodable",
            "Messages on the aggregate topics that could not be decoded (skipped)",
            ["topic"],
            registry=r,
        )
        self.subscribers = Gauge(
            "chorus_dashboard_subscribers", "Browsers connected to /events", registry=r
        )
        self.cells = Gauge(
            "chorus_dashboard_cells_held", "Latest cells held", ["aggregate"], registry=r
        )
        self.suppressed_cells = Gauge(
            "chorus_dashboard_suppressed_cells_shown",
            "Cells held and shown with at least one suppressed value",
            ["aggregate"],
            registry=r,
        )
        self.suppressed_values = Gauge(
            "chorus_dashboard_suppressed_values_shown",
            "Suppressed values in the cells held",
            ["aggregate"],
            registry=r,
        )

    def update_cells(self, store: CellStore, aggregates: Sequence[str]) -> None:
        held = store.held()
        cells, values = store.suppressed()
        for name in aggregates:
            self.cells.labels(name).set(held[name])
            self.suppressed_cells.labels(name).set(cells[name])
            self.suppressed_values.labels(name).set(values[name])


class Hub:
    """The subscribers to live changes: one bounded queue each."""

    def __init__(self, metrics: Metrics) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._metrics = metrics

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._queues.add(queue)
        self._metrics.subscribers.set(len(self._queues))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._queues.discard(queue)
        self._metrics.subscribers.set(len(self._queues))

    def publish(self, event: dict[str, Any]) -> None:
        """Give every subscriber the event; one too far behind gets None (it must reconnect)."""
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.unsubscribe(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    def __len__(self) -> int:
        return len(self._queues)


class Feed:
    """Reads the aggregate topics into the store and tells the hub what changed."""

    def __init__(
        self,
        bootstrap: str,
        aggregates: Sequence[str],
        prefix: str = "",
        metrics: Metrics | None = None,
        security: KafkaSecurity = UNAUTHENTICATED,
    ) -> None:
        self.bootstrap = bootstrap
        self.security = security
        self.aggregates = tuple(aggregates)
        self.topics = {topics.agg_topic(name, prefix): name for name in self.aggregates}
        self.metrics = metrics or Metrics()
        self.store = CellStore()
        self.hub = Hub(self.metrics)
        self.codec = Codec()
        self.assigned = 0
        self.last_poll: float | None = None
        self.problem: str | None = "not started"
        for topic in self.topics:
            self.metrics.consumed.labels(topic)  # reported as 0 until a message arrives
        self.metrics.update_cells(self.store, self.aggregates)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when the consumer is assigned partitions and has polled recently."""
        since = None if self.last_poll is None else time.monotonic() - self.last_poll
        ok = self.assigned > 0 and since is not None and since < STALE_POLL_S
        body = {
            "status": "ok" if ok else "unavailable",
            "assigned_partitions": self.assigned,
            "seconds_since_poll": None if since is None else round(since, 2),
            "cells": len(self.store.cells),
            "subscribers": len(self.hub),
            "topics": sorted(self.topics),
        }
        if not ok:
            body["problem"] = self.problem or "the consumer has not polled recently"
        return ok, body

    async def run(self) -> None:
        """Consume until cancelled; reconnects (after a pause) when Kafka goes away."""
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                metadata_max_age_ms=5000,
                **self.security.aiokafka(),
            )
            try:
                await consumer.start()
                self.problem = "waiting for partitions of the aggregate topics"
                await self._consume(consumer)
            except (KafkaError, OSError) as exc:
                self.assigned = 0
                self.problem = f"Kafka at {self.bootstrap}: {type(exc).__name__}"
                log.warning("dashboard: %s; retrying in 2s", self.problem)
                await asyncio.sleep(2)
            finally:
                self.assigned = 0
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS)
            self.assigned = len(consumer.assignment())
            self.last_poll = time.monotonic()
            changes = Changes()
            for tp, messages in batches.items():
                for msg in messages:
                    self.apply(tp.topic, msg.partition, msg.offset, msg.key, msg.value, changes)
            if changes:
                self.metrics.update_cells(self.store, self.aggregates)
                self.hub.publish(changes.as_event(self.store.last_published))

    def apply(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        changes: Changes,
    ) -> None:
        """Take one message of an aggregate topic into the store."""
        self.metrics.consumed.labels(topic).inc()
        aggregate = self.topics.get(topic)
        if aggregate is None:
            return
        if value is None:
            if key is not None:
                self.store.put(aggregate, key.decode("utf-8", "replace"), None, changes)
            return
        try:
            _, cell = self.codec.decode(value)
        except (ContractError, ValueError) as exc:
            self.metrics.undecodable.labels(topic).inc()
            log.warning(
                "dashboard: skipped undecodable message %s[%d]@%d (%s)",
                topic,
                partition,
                offset,
                type(exc).__name__,
            )
            return
        self.store.put(aggregate, cell["cell_key"], cell, changes)
