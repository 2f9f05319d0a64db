"""How every live aggregate is kept in faust, so that replays and restarts never count twice.

1. One agent reads every strategic reporting share topic the aggregates need
   (and the ledger), in batches, decoding each event once. For each aggregate
   that reads the event, ``<aggregate>-contributions`` (keyed by subject: the
   child's pseudonym, on the share topics' partitions, which the gatekeeper keys
   by it) holds the child's current facts (engine.apply). After each batch the
   children's contributions to the cells are recomputed from their facts and
   what changed goes on the internal ``<app>-<aggregate>-deltas`` topic (keyed
   by aggregate, so one worker holds all of an aggregate's cells). A child not
   sent since this worker (re)gained its partitions is sent whole, so a delta
   lost when a worker died is made good by the first one after it; faust
   commits an offset only after the producer has flushed.
2. ``<aggregate>-cells`` holds each cell's members and their values
   (cellstore.CellStore). A delta replaces the child's members in the cells it
   names: applying one twice changes nothing. Each entry changed by a batch of
   deltas is written once.
3. On the publication cadence (ticks at fixed times, so a slow publication does
   not delay the next ones) the cells pass disclosure control (the rules are
   asked of OPA each time; no usable rules, no publication) and the cells whose
   published form changed go to the compacted ``chorus.agg.<aggregate>`` topic.

Table entries go to their changelogs straight through the producer (write());
events are taken in batches of up to EVENT_BATCH, so a child's events in a
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
from schemas.errors import ContractError
from streams import metrics, topics
from streams.aggregates import cellstore, engine
from streams.context import StreamContext
from streams.dead_letters import dead_letter
from streams.disclosure import DisclosureError, Rules
from streams.policy_client import PolicyError

log = logging.getLogger(__name__)
# Events are taken in large batches: a child's events in one batch make one table write
# and one delta. Deltas come few to a message, so their batches need not wait long.
EVENT_BATCH, EVENT_WAIT_S = 5000, 0.5
DELTA_BATCH, DELTA_WAIT_S = 1000, 0.1
MAX_DELTA_BYTES = 256 * 1024  # a batch's deltas are split into messages of about this size
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


def chunks(deltas: Sequence[dict[str, Any]]) -> Iterable[bytes]:
    """The deltas as JSON messages of about MAX_DELTA_BYTES (never one delta split)."""
    part: list[bytes] = []
    size = 0
    for delta in deltas:
        body = orjson.dumps(delta)
        if part and size + len(body) > MAX_DELTA_BYTES:
            yield b"[" + b",".join(part) + b"]"
            part, size = [], 0
        part.append(body)
        size += len(body) + 1
    if part:
        yield b"[" + b",".join(part) + b"]"


@dataclass
class Aggregate:
    """One aggregate's tables, topics and in-memory state in a worker."""

    spec: engine.AggregateSpec
    subjects: faust.Table
    cells: faust.Table
    deltas: faust.TopicT
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
    source = topics.raw_topic(app, *names)
    dlq = topics.dlq_topic(app, "aggregate", prefix)

    async def reject(event: faust.EventT, err: Exception, who: str) -> None:
        msg = event.message
        error = (
            err
            if isinstance(err, ContractError)
            else ContractError(
                "aggregate.input", f"event lacks what {who} needs ({type(err).__name__})"
            )
        )
        log.warning(
            "%s: dead-lettered %s[%d]@%d rule=%s",
            who,
            msg.topic,
            msg.partition,
            msg.offset,
            error.rule,
        )
        letter = dead_letter(
            "aggregate",
            error,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            payload=event.value,
        )
        await dlq.send(key=msg.key, value=ctx.codec.encode("platform.dead_letter", letter))

    @app.agent(source, name="chorus.agg.contributions", concurrency=1)
    async def contribute(stream: faust.StreamT) -> None:
        async for batch in stream.take_events(EVENT_BATCH, within=EVENT_WAIT_S):
            decoded = []
            for i, event in enumerate(batch):
                try:
                    schema, record = ctx.codec.decode(event.value)
                except ContractError as err:
                    await reject(event, err, "the aggregates")
                    continue
                decoded.append((i, schema.event_type, record, event.message.partition))
            for agg in aggregates:
                items = [
                    (i, engine.decoded_name(et), record, partition)
                    for i, et, record, partition in decoded
                    if engine.reads(agg.spec, et)
                ]
                if not items:
                    continue
                done = engine.step(agg.spec, agg.subjects.get, agg.sent, items)
                for i, err in done.rejected:
                    await reject(batch[i], err, agg.spec.name)
                await write(
                    agg.subjects,
                    ((p, subject, state) for subject, (p, state) in done.writes.items()),
                )
                bodies = list(chunks(done.deltas))
                # The last message carries the events' Kafka timestamps (inclusion delay).
                stamps = metrics.source_timestamps(batch[i].message.timestamp for i, *_ in items)
                for n, body in enumerate(bodies, 1):
                    headers = stamps if n == len(bodies) else None
                    await agg.deltas.send(key=agg.spec.name.encode(), value=body, headers=headers)

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
    agg = Aggregate(
        spec=spec,
        subjects=app.Table(f"{spec.name}-contributions"),
        cells=app.Table(f"{spec.name}-cells"),
        deltas=app.topic(
            f"{ctx.settings.app_id}-{spec.name}-deltas",
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
        agg.sent.clear()
        agg.publisher.forget()

    async def forget_sent() -> None:
        agg.sent.clear()

    agg.cells.on_recover(recovered)
    agg.subjects.on_recover(forget_sent)

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
