"""`chorus agg rebuild NAME`: recompute an aggregate from the log.

Two things, which can be combined:

1. A batch recomputation (always): read every message now on the aggregate's
   input topics (its strategic reporting share topics and the withdrawals, or
   the ledger) from the beginning, compute the cells with the same pure code the
   stream processors use (engine.py), pass them through disclosure control with
   the rules in force, and publish every cell as one fresh publication on
   ``chorus.agg.<name>`` (cells on the topic that no longer have members are
   published as zero). Live workers may keep running; they compute the same
   values from the same log. ``--dry-run`` computes and reports without publishing.
2. ``--reset-app APP_ID`` (workers of that app id stopped): empty the
   aggregate's changelogs (its subjects' states and its cell keys), and move the
   app's committed offsets on the aggregate's input topics back to the
   beginning, so the next worker start recomputes the live tables from the log.
   Other aggregates of the app reading the same topics re-read them too, and
   change nothing (their effects are idempotent).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas import topics
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from streams.aggregates import cellstore, engine, intake
from streams.aggregates.engine import input_topics, withdrawn_topic
from streams.aggregates.publication import Summary
from streams.disclosure import Rules

log = logging.getLogger(__name__)


class RebuildError(Exception):
    """A rebuild cannot go ahead (one line for the user)."""


@dataclass
class RebuildReport:
    read: int = 0
    undecodable: int = 0
    cells: int = 0
    published: int = 0
    suppressed_measures: int = 0
    reset: list[str] = field(default_factory=list)


def read_topic_messages(
    bootstrap: str,
    names: Iterable[str],
    codec: Codec,
    report: RebuildReport,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> list[tuple[str, dict[str, Any]]]:
    """Every message now on the topics (to their current end), decoded, in topic order."""
    out: list[tuple[str, dict[str, Any]]] = []
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
        **security.kafka_python(),
    )
    try:
        for name in names:
            parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or []]
            if not parts:
                continue
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            end = consumer.end_offsets(parts)
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for batch in consumer.poll(timeout_ms=2000).values():
                    for msg in batch:
                        if msg.offset >= end[TopicPartition(msg.topic, msg.partition)]:
                            continue
                        report.read += 1
                        if msg.value is None:
                            continue
                        try:
                            schema, record = codec.decode(msg.value)
                        except ContractError:
                            report.undecodable += 1  # the stream dead-letters these
                            continue
                        out.append((schema.event_type, record))
    finally:
        consumer.close()
    return out


def recompute(
    spec: engine.AggregateSpec,
    messages: list[tuple[str, dict[str, Any]]],
    rules: Rules,
    record_key,
    existing: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """The aggregate's published cells from decoded messages; ``existing`` keys stay, as zero."""
    store = cellstore.recompute(spec, messages, record_key)
    summaries = dict(store.summaries())
    for key in existing:
        summaries.setdefault(key, Summary())
    return cellstore.published_cells(spec, summaries, rules)


def published_keys(
    bootstrap: str,
    name: str,
    prefix: str,
    codec: Codec,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> list[str]:
    report = RebuildReport()
    names = [topics.agg_topic(name, prefix)]
    messages = read_topic_messages(bootstrap, names, codec, report, security)
    return sorted({cell["cell_key"] for _, cell in messages})


def rebuild(
    spec: engine.AggregateSpec,
    *,
    bootstrap: str,
    prefix: str,
    rules: Rules,
    record_key,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> RebuildReport:
    report = RebuildReport()
    codec = Codec()
    names = input_topics(spec, prefix)
    names.sort(key=lambda n: n == withdrawn_topic(prefix))  # withdrawals last
    messages = read_topic_messages(bootstrap, names, codec, report, security)
    existing = published_keys(bootstrap, spec.name, prefix, codec, security)
    cells = recompute(spec, messages, rules, record_key, existing)
    report.cells = len(cells)
    report.suppressed_measures = sum(
        m["status"] == "SUPPRESSED" for c in cells.values() for m in c["measures"]
    )
    if dry_run:
        return report
    pub = cellstore.publication(rules, rules.method_for(spec.name), now or dt.datetime.now(dt.UTC))
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, **security.kafka_python()
    )
    try:
        for key, cell in sorted(cells.items()):
            value = codec.encode("platform.aggregate_cell", {**cell, "publication": pub})
            producer.send(topics.agg_topic(spec.name, prefix), key=key.encode(), value=value)
            report.published += 1
        producer.flush()
    finally:
        producer.close()
    return report


def reset_app(
    spec: engine.AggregateSpec,
    *,
    bootstrap: str,
    prefix: str,
    app_id: str,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> int:
    """Forget an app's live state of the aggregate so its next start recomputes it from the log.

    The app's changelogs for the aggregate are emptied by a tombstone for every
    key (compacted topics cannot be truncated, and deleting and recreating them
    races the broker), and its committed offsets on the aggregate's input topics
    go back to the beginning. Returns the number of entries removed.
    """
    from kafka.admin import KafkaAdminClient, OffsetSpec

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **security.kafka_python())
    try:
        intake_group = intake.group_id(app_id)
        described = admin.describe_groups([app_id, intake_group])
        states = {g: (described.get(g) or {}).get("group_state", "Dead") for g in described}
        states.setdefault(app_id, "Dead")
        states.setdefault(intake_group, "Dead")
        for group, state in states.items():
            if state not in ("Empty", "Dead"):
                raise RebuildError(
                    f"app '{app_id}' still has running workers (group {group} is {state}); "
                    "stop them first, then run the rebuild again"
                )
        present = set(admin.list_topics())
        tables = [
            t
            for t in (
                intake.changelog_topic(app_id, spec.name),
                intake.cell_keys_topic(app_id, spec.name),
            )
            if t in present
        ]
        removed = _tombstone_every_key(bootstrap, tables, security)
        inputs = {
            TopicPartition(t, p): OffsetSpec.EARLIEST
            for t in input_topics(spec, prefix)
            for p in range(topics.DEFAULT_PARTITIONS)
        }
        if states[intake_group] == "Empty":
            admin.reset_group_offsets(intake_group, inputs)
        return removed
    finally:
        admin.close()


def _tombstone_every_key(
    bootstrap: str, names: list[str], security: KafkaSecurity = UNAUTHENTICATED
) -> int:
    """Write a tombstone, in its own partition, for every key now on these changelogs."""
    keys: set[tuple[str, int, bytes]] = set()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
        **security.kafka_python(),
    )
    try:
        for name in names:
            parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or []]
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            end = consumer.end_offsets(parts)
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for batch in consumer.poll(timeout_ms=2000).values():
                    keys.update((m.topic, m.partition, m.key) for m in batch if m.key is not None)
    finally:
        consumer.close()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, **security.kafka_python()
    )
    try:
        for topic, partition, key in sorted(keys):
            producer.send(topic, key=key, value=None, partition=partition)
        producer.flush()
    finally:
        producer.close()
    return len(keys)
