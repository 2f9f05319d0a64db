"""How every live aggregate is kept in faust, so that replays and restarts never count twice.

1. The intake (intake.py) reads every strategic reporting share topic the
   aggregates need (and the ledger), in batches, decoding each event once, with
   aiokafka rather than a faust agent (faust's per-message stream could not keep
   up; intake.py says why). For each aggregate that reads the event, the child's
   current facts (engine.apply) are kept in memory and in the compacted
   ``<app>-<aggregate>-contributions-changelog`` (keyed by subject: the child's
   pseudonym, on the share topics' partitions, which the gatekeeper keys by it).
   After each batch the children's contributions to the cells are recomputed from
   their facts and what changed goes on the internal ``<app>-<aggregate>-deltas``
   topic (keyed by aggregate, so one worker holds all of an aggregate's cells). A
   child not sent since this worker (re)gained its partitions is sent whole, so a
   delta lost when a worker died is made good by the first one after it; offsets
   are committed only after the broker acknowledged the batch's writes.
2. ``<aggregate>-cells`` holds each cell's members and their values
   (cellstore.CellStore). A delta replaces the child's members in the cells it
   names: applying one twice changes nothing. Each entry changed by a batch of
   deltas is written once.
3. On the publication cadence (ticks at fixed times, so a slow publication does
   not delay the next ones) the cells pass disclosure control (the rules are
   asked of OPA each time; no usable rules, no publication) and the cells whose
   published form changed go to the compacted ``chorus.agg.<aggregate>`` topic.

Cell entries go to their changelog straight through faust's producer (write());
events are taken in batches of up to intake.EVENT_BATCH, so a child's events in a
batch make one entry and one delta.

A child's withdrawal (``chorus.share.strategic_reporting.subject_withdrawn``)
is one more event of the child: the facts of the withdrawn event types are
dropped and later ones ignored, so the child leaves the cells at the next
publication. Agents run with concurrency 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import faust
import orjson
from faust.serializers import codecs

from schemas import topics as catalogue
from streams import internal_topics, metrics, topics
from streams.aggregates import cellstore, engine, intake
from streams.context import StreamContext
from streams.disclosure import DisclosureError, Rules
from streams.policy_client import PolicyError

log = logging.getLogger(__name__)
# Deltas come few to a message, so their batches need not wait long.
DELTA_BATCH, DELTA_WAIT_S = 1000, 0.1
_ENSURED: set[str] = set()


def record_keys(ctx: StreamContext, spec: engine.AggregateSpec):
    """Each member's secret record key for the cell key method (keyed; stable across restarts)."""

    @lru_cache(maxsize=1 << 20)
    def key(member: str) -> int:
        return engine.record_key(ctx.pseudonymiser, spec.name, member)

    return key


async def rules_now(ctx: StreamContext) -> Rules | None:
    """The disclosure rules in force, or None (logged) when there are none usable."""
    try:
        doc = await ctx.policy.disclosure_rules()
        return Rules.from_policy(doc, await ctx.policy.revision())
    except (PolicyError, DisclosureError) as exc:
        log.warning("no usable disclosure rules, publication skipped: %s", exc)
        return None


async def write(table: faust.Table, entries: Iterable[tuple[int, str, Any]]) -> None:
    """Table entries ``(changelog partition, key, value)`` set (a value of None deletes).

    Each goes straight to the producer, serialised as the table's JSON; faust
    flushes the producer before it commits the offsets of the events that
    changed them. (``Table.send_changelog`` queues in faust's producer buffer,
    which pauses the whole stream whenever more than 100 messages wait in it.)
    """
    topic = table.changelog_topic.get_topic_name()
    send = table.app.producer.send
    for partition, key, value in entries:
        if value is None:
            table.data.pop(key, None)
            body = None
        else:
            table.data[key] = value
            body = codecs.dumps(table.value_serializer, value)
        key_bytes = codecs.dumps(table.key_serializer, key)
        delivery = await send(topic, key_bytes, body, partition, None, None)
        delivery.add_done_callback(_log_failed_write)


def _log_failed_write(delivery: asyncio.Future) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        log.error("changelog write failed: %s", type(delivery.exception()).__name__)


@dataclass
class Aggregate:
    """One aggregate's tables, topics and in-memory state in a worker."""

    spec: engine.AggregateSpec
    cells: faust.Table
    deltas: faust.TopicT
    deltas_name: str
    output: faust.TopicT
    store: cellstore.CellStore
    publisher: cellstore.Publisher
    sent: set[str] = field(default_factory=set)  # subjects sent since (re)gaining partitions


def register(app: faust.App, ctx: StreamContext, spec: engine.AggregateSpec) -> None:
    """Register one aggregate (with its own reader of its input topics)."""
    register_all(app, ctx, [spec])


def register_all(
    app: faust.App, ctx: StreamContext, specs: Sequence[engine.AggregateSpec]
) -> list[Aggregate]:
    """Register the aggregates: one reader of all their input topics, their cells, publication."""
    prefix = ctx.settings.topic_prefix
    if any(s.withdrawals for s in specs):
        ensure_withdrawn_topic(
            ctx.settings.bootstrap_servers, prefix, ctx.settings.kafka_security.kafka_python()
        )
    aggregates = [_aggregate(app, ctx, spec) for spec in specs]
    names = sorted({n for s in specs for n in engine.input_topics(s, prefix)})
    reader = intake.Intake(ctx, aggregates, names)
    for name in reader.changelogs():
        internal_topics.declare(
            app,
            internal_topics.InternalTopic(
                name, app.conf.topic_partitions, {"cleanup.policy": "compact"}
            ),
        )
    metrics.add_lag_source(reader.lag)

    @app.task
    async def take_in() -> None:
        await reader.run_forever(lambda: app.should_stop)

    @app.task
    async def publish_on_cadence() -> None:
        # Ticks at fixed times (not the cadence after the last one ended, as app.timer
        # does): a publication taking a second does not push every later one back.
        async for _ in ticks(app, ctx.settings.publish_interval_s):
            await publish()

    async def publish() -> None:
        if not app.tables.recovery.completed.is_set():
            return
        rules = await rules_now(ctx)
        if rules is None:
            return
        now = dt.datetime.now(dt.UTC)
        for agg in aggregates:
            await asyncio.sleep(0)  # the agents run between aggregates: a tick can take seconds
            changed = agg.publisher.changed(agg.store, rules, now)
            for cell in changed:
                await agg.output.send(
                    key=cell["cell_key"].encode(),
                    value=ctx.codec.encode("platform.aggregate_cell", cell),
                )
            if changed:
                log.info("%s: published %d changed cells", agg.spec.name, len(changed))
            metrics.record_publication(agg.spec.name, changed, time.time())

    return aggregates


async def ticks(app: faust.App, interval: float) -> AsyncIterator[float]:
    """The times start + k * interval, each slept until (one missed while busy is skipped)."""
    due = time.monotonic()
    while not app.should_stop:
        due += interval
        now = time.monotonic()
        if due < now:
            due = now + interval - (now - due) % interval
        await asyncio.sleep(due - now)
        yield due


def _aggregate(app: faust.App, ctx: StreamContext, spec: engine.AggregateSpec) -> Aggregate:
    """One aggregate's tables and topics, and the agent applying its deltas to its cells."""
    deltas_name = f"{ctx.settings.app_id}-{spec.name}-deltas"
    agg = Aggregate(
        spec=spec,
        cells=app.Table(f"{spec.name}-cells"),
        deltas_name=deltas_name,
        deltas=app.topic(
            deltas_name,
            internal=True,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        ),
        output=topics.agg_topic(app, spec.name, ctx.settings.topic_prefix),
        store=cellstore.CellStore(spec, record_keys(ctx, spec)),
        publisher=cellstore.Publisher(spec),
    )

    async def recovered() -> None:
        agg.store.load(agg.cells.items())
        agg.publisher.forget()

    agg.cells.on_recover(recovered)

    @app.agent(agg.deltas, name=f"chorus.agg.{spec.name}.cells", concurrency=1)
    async def count(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(DELTA_BATCH, within=DELTA_WAIT_S):
            touched: dict[str, int] = {}
            for event in batch:
                for delta in orjson.loads(event.value):
                    for key in agg.store.replace(delta["s"], delta["c"], delta["full"]):
                        touched[key] = event.message.partition
            entries = agg.store.entries
            await write(agg.cells, ((p, key, entries.get(key)) for key, p in touched.items()))
            for event in batch:
                metrics.taken_in(spec.name, event.message.headers)

    return agg


def ensure_withdrawn_topic(
    bootstrap: str, prefix: str, security: dict[str, Any] | None = None
) -> None:
    """Create the subject_withdrawn share topic if missing, partitioned like the share topics.

    The aggregates subscribe to it before the gatekeeper first writes to it, and a
    consumer does not see a topic created after it subscribed until its metadata
    is refreshed; the topic plan should list it (see the README).
    """
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    name = engine.withdrawn_topic(prefix)
    if name in _ENSURED:
        return
    _ENSURED.add(name)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=10_000, **(security or {})
        )
    except KafkaError as exc:
        log.warning("could not check topic %s: %s", name, type(exc).__name__)
        return
    try:
        if name not in admin.list_topics():
            admin.create_topics([NewTopic(name, catalogue.DEFAULT_PARTITIONS, 1)])
            log.info("created topic %s", name)
    except TopicAlreadyExistsError:
        pass
    except KafkaError as exc:
        log.warning("could not create topic %s: %s", name, type(exc).__name__)
    finally:
        admin.close()
