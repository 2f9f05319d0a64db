"""`chorus agg sink`: the latest published cell of every aggregate, in SQL tables for BI tools.

A consumer of the ``chorus.agg.*`` topics (its own consumer group) that writes
each batch in one database transaction and commits its Kafka offsets only after
the transaction, so a crash replays a batch and the replay changes nothing: a
cell is replaced only by a message at a later offset. SQLAlchemy Core with
portable types: SQLite by default, PostgreSQL (or SQL Server) by URL.

Tables (one row per cell, and long tables BI tools pivot):

- ``chorus_agg_cell``: aggregate, cell_key, table_name, dimensions (JSON), the
  publication (sequence, published_at, method, policy revision, rules as JSON),
  annotations (JSON), and the Kafka offset it came from;
- ``chorus_agg_dimension``: aggregate, cell_key, dimension, value;
- ``chorus_agg_measure``: aggregate, cell_key, measure, kind, value (null when
  suppressed), status, suppression reason, note, denominator, unit;
- ``chorus_agg_statement``: aggregate, cell_key, position, text, author_role.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    insert,
    select,
)

from schemas import topics
from schemas.codec import Codec
from schemas.errors import ContractError
from streams.metrics import SinkProbe

log = logging.getLogger(__name__)
metadata = MetaData()


def _cell_key_columns() -> list[Column]:
    return [
        Column("aggregate", String(100), primary_key=True),
        Column("cell_key", String(400), primary_key=True),
    ]


CELL = Table(
    "chorus_agg_cell",
    metadata,
    *_cell_key_columns(),
    Column("table_name", String(100)),
    Column("dimensions", Text, nullable=False),
    Column("publication_sequence", BigInteger, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("method", String(20)),
    Column("policy_revision", String(100)),
    Column("rules", Text, nullable=False),
    Column("annotations", Text, nullable=False),
    Column("kafka_partition", Integer, nullable=False),
    Column("kafka_offset", BigInteger, nullable=False),
)
DIMENSION = Table(
    "chorus_agg_dimension",
    metadata,
    *_cell_key_columns(),
    Column("dimension", String(100), primary_key=True),
    Column("value", String(200), nullable=False),
)
MEASURE = Table(
    "chorus_agg_measure",
    metadata,
    *_cell_key_columns(),
    Column("measure", String(100), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("value", Double),
    Column("status", String(12), nullable=False),
    Column("suppression", String(30)),
    Column("note", String(400)),
    Column("denominator", String(100)),
    Column("unit", String(200)),
)
STATEMENT = Table(
    "chorus_agg_statement",
    metadata,
    *_cell_key_columns(),
    Column("position", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("author_role", String(30)),
)
CHILD_TABLES = (DIMENSION, MEASURE, STATEMENT)


@dataclass
class SinkStats:
    messages: int = 0
    written: int = 0
    deleted: int = 0
    skipped: int = 0  # older than what the database holds (a replay)
    undecodable: int = 0


def rows(cell: dict[str, Any], partition: int, offset: int) -> dict[Table, list[dict]]:
    """The rows of one cell in each table."""
    key = {"aggregate": cell["aggregate"], "cell_key": cell["cell_key"]}
    pub = cell["publication"]
    return {
        CELL: [
            {
                **key,
                "table_name": cell.get("table"),
                "dimensions": json.dumps(cell["dimensions"], sort_keys=True),
                "publication_sequence": pub["sequence"],
                "published_at": pub["published_at"],
                "method": pub.get("method"),
                "policy_revision": pub.get("policy_revision"),
                "rules": json.dumps(pub["rules"]),
                "annotations": json.dumps(cell.get("annotations") or {}, sort_keys=True),
                "kafka_partition": partition,
                "kafka_offset": offset,
            }
        ],
        DIMENSION: [{**key, "dimension": d, "value": v} for d, v in cell["dimensions"].items()],
        MEASURE: [
            {
                **key,
                "measure": m["name"],
                "kind": m.get("kind") or "COUNT",
                "value": m["value"],
                "status": m["status"],
                "suppression": m.get("suppression"),
                "note": m.get("note"),
                "denominator": m.get("denominator"),
                "unit": m.get("unit"),
            }
            for m in cell["measures"]
        ],
        STATEMENT: [
            {**key, "position": i, "text": s["text"], "author_role": s.get("author_role")}
            for i, s in enumerate(cell.get("statements") or [])
        ],
    }


def open_database(url: str) -> Engine:
    engine = create_engine(url)
    metadata.create_all(engine)
    return engine


def write_batch(engine: Engine, messages: Iterable[Any], codec: Codec, stats: SinkStats) -> None:
    """Apply one batch of agg-topic messages in one transaction (latest per cell wins)."""
    latest: dict[tuple[str, str], tuple[Any, dict | None]] = {}
    for msg in messages:
        stats.messages += 1
        aggregate = msg.topic.rsplit("chorus.agg.", 1)[-1]
        if msg.value is None:  # a tombstone: the cell is gone
            latest[(aggregate, msg.key.decode())] = (msg, None)
            continue
        try:
            _, cell = codec.decode(msg.value)
        except ContractError:
            stats.undecodable += 1
            log.warning("undecodable cell at %s[%d]@%d", msg.topic, msg.partition, msg.offset)
            continue
        latest[(cell["aggregate"], cell["cell_key"])] = (msg, cell)
    if not latest:
        return
    with engine.begin() as conn:
        held = _held(conn, latest)
        for key, (msg, cell) in latest.items():
            if key in held and held[key] >= (msg.partition, msg.offset):
                stats.skipped += 1
                continue
            for table in (*CHILD_TABLES, CELL):
                conn.execute(delete(table).where(_is(table, key)))
            if cell is None:
                stats.deleted += 1
                continue
            for table, values in rows(cell, msg.partition, msg.offset).items():
                if values:
                    conn.execute(insert(table), values)
            stats.written += 1


def _is(table: Table, key: tuple[str, str]):
    return and_(table.c.aggregate == key[0], table.c.cell_key == key[1])


def _held(conn: Any, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """The Kafka position each of these cells was last written from."""
    by_aggregate: dict[str, list[str]] = {}
    for aggregate, cell_key in keys:
        by_aggregate.setdefault(aggregate, []).append(cell_key)
    out = {}
    c = CELL.c
    for aggregate, cell_keys in by_aggregate.items():
        for i in range(0, len(cell_keys), 500):  # bounded IN lists, for every database
            query = select(c.cell_key, c.kafka_partition, c.kafka_offset).where(
                c.aggregate == aggregate, c.cell_key.in_(cell_keys[i : i + 500])
            )
            for r in conn.execute(query):
                out[(aggregate, r.cell_key)] = (r.kafka_partition, r.kafka_offset)
    return out


def run_sink(
    bootstrap: str,
    url: str,
    *,
    names: Iterable[str] = topics.AGGREGATES,
    prefix: str = "",
    group_id: str = "chorus-agg-sink",
    idle_timeout_s: float | None = None,
    batch: int = 500,
    probe: SinkProbe | None = None,
    security: dict[str, Any] | None = None,
) -> SinkStats:
    """Consume the aggregate topics into the database until idle (or forever).

    ``probe`` receives what the loop does, for metrics and /health."""
    from kafka import KafkaConsumer

    probe = probe or SinkProbe("aggregates", prefix=prefix)
    engine = open_database(url)
    codec = Codec()
    stats = SinkStats()
    consumer = KafkaConsumer(
        *[topics.agg_topic(n, prefix) for n in names],
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch,
        **(security or {}),
    )
    last = time.monotonic()
    try:
        while idle_timeout_s is None or time.monotonic() - last < idle_timeout_s:
            polled = consumer.poll(timeout_ms=500)
            messages = [m for part in polled.values() for m in part]
            probe.polled(consumer, messages)
            if not messages:
                continue
            written, undecodable = stats.written, stats.undecodable
            write_batch(engine, messages, codec, stats)
            consumer.commit()  # only after the transaction
            probe.committed(stats.written - written, stats.undecodable - undecodable)
            last = time.monotonic()
    finally:
        consumer.close()
        engine.dispose()
    return stats
