"""The ledger sink: chorus.ledger into the SQL ledger table, without loss and without duplicates.

A plain Kafka consumer (kafka-python) in its own consumer group reads a batch,
writes all of it in ONE database transaction (decisions already stored are
ignored, by their natural key), and commits the batch's offsets to Kafka only
after that transaction has committed. So:

- a crash before the transaction commits stores nothing, and the batch is read again;
- a crash after it commits but before the offsets are committed reads the batch again,
  and every row of it is ignored as already stored.

Either way nothing is lost and nothing is stored twice (kill -9 at any point).
Logs name topics, partitions and offsets only, never what an entry says.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from schemas.topics import ledger_topic
from streams.ledger.table import (
    LEDGER,
    NATURAL_KEY,
    REJECTS,
    insert_new,
    metadata,
    row_from_entry,
    unique_rows,
)
from streams.metrics import SinkProbe

log = logging.getLogger(__name__)
LEDGER_EVENT_TYPE = "platform.ledger_entry"


@dataclass(frozen=True)
class SinkSettings:
    bootstrap_servers: str
    db_url: str  # any SQLAlchemy URL: sqlite:///ledger.db, postgresql+psycopg://...
    topic: str  # the ledger topic, with the environment's prefix
    group_id: str  # the sink's consumer group: where its committed offsets live
    batch_size: int = 1000  # most messages written in one transaction
    poll_timeout_ms: int = 1000
    kafka_security: KafkaSecurity = UNAUTHENTICATED


@dataclass
class SinkStats:
    read: int = 0
    stored: int = 0  # rows offered to the database (duplicates of stored rows are ignored)
    rejected: int = 0
    batches: int = 0
    seconds: float = 0.0


def make_engine(db_url: str) -> Engine:
    engine = create_engine(db_url)
    metadata.create_all(engine)
    return engine


def consumer_for(settings: SinkSettings) -> KafkaConsumer:
    return KafkaConsumer(
        settings.topic,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.group_id,
        enable_auto_commit=False,  # offsets are committed only after the database commit
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_size,
        isolation_level="read_committed",
        **settings.kafka_security.kafka_python(),
    )


class LedgerSink:
    def __init__(
        self,
        settings: SinkSettings,
        *,
        consumer: Any = None,
        engine: Engine | None = None,
        codec: Codec | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        self.consumer = consumer if consumer is not None else consumer_for(settings)
        self.codec = codec or Codec()
        # metrics and /health (the topic's environment prefix left out of labels)
        self.probe = SinkProbe("ledger", prefix=settings.topic.removesuffix(ledger_topic()))

    def close(self) -> None:
        self.consumer.close()
        self.engine.dispose()

    def rows(self, records: list[Any]) -> tuple[list[dict], list[dict]]:
        """(ledger rows, rejects) for a batch of Kafka records."""
        rows, rejects = [], []
        for r in records:
            try:
                schema, entry = self.codec.decode(r.value)
                if schema.event_type != LEDGER_EVENT_TYPE:
                    raise ContractError(
                        "ledger.event_type", f"a {schema.event_type} event, not a ledger entry"
                    )
                rows.append(row_from_entry(entry, r.topic, r.partition, r.offset))
            except (ContractError, KeyError, TypeError, ValueError) as err:
                rule = getattr(err, "rule", type(err).__name__)
                log.warning(
                    "ledger: not an entry at %s[%d]@%d: %s", r.topic, r.partition, r.offset, rule
                )
                rejects.append(
                    {
                        "kafka_topic": r.topic,
                        "kafka_partition": r.partition,
                        "kafka_offset": r.offset,
                        "rule": str(rule)[:100],
                        "reason": str(getattr(err, "reason", "")) or type(err).__name__,
                        "seen_at": dt.datetime.now(dt.UTC),
                    }
                )
        return rows, rejects

    def write(self, rows: list[dict], rejects: list[dict]) -> None:
        """Both lists in one transaction: all of it is stored, or none of it."""
        with self.engine.begin() as conn:
            insert_new(conn, LEDGER, unique_rows(rows, NATURAL_KEY), NATURAL_KEY)
            reject_key = ("kafka_topic", "kafka_partition", "kafka_offset")
            insert_new(conn, REJECTS, unique_rows(rejects, reject_key), reject_key)

    def run_batch(self, stats: SinkStats) -> int:
        """Read, store and commit one batch; the number of messages read."""
        polled = self.consumer.poll(
            timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.batch_size
        )
        records = [r for batch in polled.values() for r in batch]
        self.probe.polled(self.consumer, records)
        if not records:
            return 0
        rows, rejects = self.rows(records)
        self.write(rows, rejects)  # commits the database transaction ...
        try:
            self.consumer.commit()  # ... and only then the offsets read so far
        except CommitFailedError as exc:
            # The group rebalanced: the batch will be read again, and ignored as stored.
            log.warning("ledger: offsets not committed (%s); the batch will be re-read", exc)
        self.probe.committed(len(rows), len(rejects))
        stats.read += len(records)
        stats.stored += len(rows)
        stats.rejected += len(rejects)
        stats.batches += 1
        return len(records)

    def caught_up(self) -> bool:
        """True when the consumer has partitions and has read to the end of each."""
        assigned = self.consumer.assignment()
        if not assigned:
            return False
        ends = self.consumer.end_offsets(list(assigned))
        return all(self.consumer.position(tp) >= ends[tp] for tp in assigned)

    def run(
        self,
        *,
        until_idle: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Callable[[SinkStats], None] | None = None,
    ) -> SinkStats:
        """Store batches until stopped (or, `until_idle`, until the topic is read to its end)."""
        stats = SinkStats()
        began = time.monotonic()
        last_report = began
        while not should_stop():
            n = self.run_batch(stats)
            if progress is not None and time.monotonic() - last_report >= 10:
                progress(stats)
                last_report = time.monotonic()
            if n == 0 and until_idle and self.caught_up():
                break
        stats.seconds = time.monotonic() - began
        return stats
