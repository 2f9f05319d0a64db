"""Stage 1 of the live aggregates: the share topics read in bulk, each child's facts kept.

Why not a faust agent, as for the cells: faust hands an agent one message at a
time (a Message, an Event, a queue, and in its consumer two tasks per message).
An agent that does nothing but count these topics' messages reached 27% of a
plain aiokafka consume-and-produce loop over them (tests/perf/bench_aggregates.py
prints both), so a faust agent could not keep up with the share topics at the
rates the connectors reach. The intake reads them with aiokafka, the client
faust itself uses, a batch of up to EVENT_BATCH messages at a time, and keeps
what a faust table would guarantee:

- Its own consumer group, ``<app id>-intake``, range-assigned, so partition p of
  every input topic goes to the same worker (the gatekeeper keys every share
  topic by the child's pseudonym, so a child's events are on one partition).
- Each aggregate's subjects' states (engine.apply) are held in memory for the
  partitions assigned, and in the compacted changelog
  ``<app id>-<aggregate>-contributions-changelog`` (partition p holds the
  subjects of input partition p; JSON key and value, as a faust table's). On
  every assignment they are restored from it before the next batch is applied.
- A batch's offsets are committed only after its changelog entries, deltas and
  dead letters are acknowledged by the broker (acks=all, idempotent producer):
  at least once, and engine.step makes a replay change nothing. A child not sent
  since the last assignment is sent whole, so a delta lost in a crash is made
  good by the first one after it.
- A revocation waits for the batch in hand to be committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from schemas import topics as catalogue
from schemas.errors import ContractError
from schemas.record_batches import send_batches
from streams import changelogs, metrics
from streams.aggregates import engine
from streams.context import StreamContext
from streams.dead_letters import dead_letter

log = logging.getLogger(__name__)

EVENT_BATCH = 5000  # messages taken at once: a child's events in one batch make one entry
EVENT_WAIT_MS = 200  # the longest a batch waits to fill
MAX_DELTA_BYTES = 256 * 1024  # a batch's deltas are split into messages of about this size


def changelog_topic(app_id: str, aggregate: str) -> str:
    return f"{app_id}-{aggregate}-contributions-changelog"


def group_id(app_id: str) -> str:
    return f"{app_id}-intake"


def chunks(deltas: Sequence[dict[str, Any]]) -> list[bytes]:
    """The deltas as JSON messages of about MAX_DELTA_BYTES (never one delta split)."""
    out: list[bytes] = []
    part: list[bytes] = []
    size = 0
    for delta in deltas:
        body = orjson.dumps(delta)
        if part and size + len(body) > MAX_DELTA_BYTES:
            out.append(b"[" + b",".join(part) + b"]")
            part, size = [], 0
        part.append(body)
        size += len(body) + 1
    if part:
        out.append(b"[" + b",".join(part) + b"]")
    return out


class _Listener(ConsumerRebalanceListener):
    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.intake.lock:  # the batch in hand is committed first
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.intake.restore_pending = {tp.partition for tp in assigned}


class Intake:
    """Reads an app's aggregate input topics; applies each batch to every aggregate reading it.

    ``aggregates`` are machinery.Aggregate objects (spec, sent set, deltas topic name).
    """

    def __init__(self, ctx: StreamContext, aggregates: Sequence[Any], names: Sequence[str]):
        self.ctx = ctx
        self.aggregates = list(aggregates)
        self.names = sorted(names)
        settings = ctx.settings
        self.app_id = settings.app_id
        self.client = {
            "bootstrap_servers": settings.bootstrap_servers,
            **settings.kafka_security.aiokafka(),
        }
        self.states: dict[str, dict[str, dict[str, Any]]] = {
            a.spec.name: {} for a in self.aggregates
        }
        # each sent subject's contributions as last computed (engine.step), kept so they
        # need not be computed again from its old state; as large as the cell store's
        self.known: dict[str, dict[str, dict[str, Any]]] = {
            a.spec.name: {} for a in self.aggregates
        }
        self.lock = asyncio.Lock()
        self.restore_pending: set[int] | None = None
        self.dlq = catalogue.dlq_topic("aggregate", settings.topic_prefix)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.committed: dict[TopicPartition, int] = {}  # offsets this worker committed

    def changelogs(self) -> list[str]:
        return [changelog_topic(self.app_id, a.spec.name) for a in self.aggregates]

    async def run_forever(self, stopping: Callable[[], bool]) -> None:
        """Run until ``stopping()``; after a failure (Kafka unreachable, a batch not
        acknowledged) start again from the committed offsets, with backoff."""
        backoff = 1.0
        while not stopping():
            try:
                await self.run(stopping)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the intake must outlive a broker outage
                # Kafka's messages name brokers and topics; others could quote an event's value.
                detail = str(exc)[:200] if isinstance(exc, KafkaError) else ""
                log.warning(
                    "intake stopped (%s: %s); starting again in %.0fs",
                    type(exc).__name__,
                    detail,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def run(self, stopping: Callable[[], bool]) -> None:
        """One consumer's life: subscribe, restore on assignment, apply batches."""
        consumer = AIOKafkaConsumer(
            group_id=group_id(self.app_id),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=EVENT_BATCH,
            partition_assignment_strategy=(RangePartitionAssignor,),
            **self.client,
        )
        producer = AIOKafkaProducer(
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=1024 * 1024,
            **self.client,
        )
        try:
            await producer.start()
            await consumer.start()
            self.consumer, self.producer = consumer, producer
            consumer.subscribe(self.names, listener=_Listener(self))
            while not stopping():
                records = await consumer.getmany(timeout_ms=EVENT_WAIT_MS)
                async with self.lock:
                    if self.restore_pending is not None:
                        await self._restore()
                    if records:
                        await self._apply(records)
        finally:
            self.consumer = None
            await consumer.stop()
            await producer.stop()

    async def _restore(self) -> None:
        """Every assigned partition's subjects, from the changelogs (a fresh start each time)."""
        partitions = sorted(self.restore_pending or ())
        self.restore_pending = None
        self.committed.clear()
        for agg in self.aggregates:
            self.states[agg.spec.name].clear()
            self.known[agg.spec.name].clear()
            agg.sent.clear()
        if not partitions:
            return
        by_topic = {changelog_topic(self.app_id, a.spec.name): a.spec.name for a in self.aggregates}
        reader = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **self.client)
        await reader.start()
        try:
            tps = [TopicPartition(t, p) for t in by_topic for p in partitions]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            end = await reader.end_offsets(tps)
            left = {tp for tp in tps if end[tp] > 0}
            n = 0
            while left:
                batch = await reader.getmany(*left, timeout_ms=1000)
                for tp, messages in batch.items():
                    n += changelogs.replay(self.states[by_topic[tp.topic]], messages)
                for tp in list(left):
                    if await reader.position(tp) >= end[tp]:
                        left.discard(tp)
            log.info(
                "intake: %d partition(s) assigned, %d changelog entries restored",
                len(partitions),
                n,
            )
        finally:
            await reader.stop()

    async def _apply(self, records: dict[TopicPartition, list[Any]]) -> None:
        assert self.consumer is not None and self.producer is not None
        messages = [m for batch in records.values() for m in batch]
        metrics.record_received(m.topic for m in messages)
        decoded = []
        rejects: list[tuple[int, ContractError | Exception, str]] = []
        decode = self.ctx.codec.decode
        for i, m in enumerate(messages):
            try:
                schema, record = decode(m.value)
            except ContractError as err:
                rejects.append((i, err, "the aggregates"))
                continue
            decoded.append((i, schema.event_type, record, m.partition))
        by_type: dict[str, list[tuple[int, str, Any, int]]] = defaultdict(list)
        for i, et, record, partition in decoded:
            by_type[et].append((i, engine.decoded_name(et), record, partition))
        acks: list[asyncio.Future] = []
        for agg in self.aggregates:
            mine = [t for t in by_type if engine.reads(agg.spec, t)]
            items = (
                by_type[mine[0]]
                if len(mine) == 1
                else sorted((item for t in mine for item in by_type[t]), key=lambda item: item[0])
            )
            if items:
                acks += await self._step(agg, items, messages, rejects)
        for i, err, who in rejects:
            acks.append(await self._reject(messages[i], err, who))
        if acks:
            await asyncio.gather(*acks)  # a failure raises: nothing is committed
        offsets = {tp: batch[-1].offset + 1 for tp, batch in records.items() if batch}
        await self.consumer.commit(offsets)
        self.committed.update(offsets)

    async def _step(
        self,
        agg: Any,
        items: list[tuple[int, str, Any, int]],
        messages: list[Any],
        rejects: list[tuple[int, ContractError | Exception, str]],
    ) -> list[asyncio.Future]:
        assert self.producer is not None
        states = self.states[agg.spec.name]
        done = engine.step(agg.spec, states.get, agg.sent, items, self.known[agg.spec.name])
        rejects += [(i, err, agg.spec.name) for i, err in done.rejected]
        by_partition: dict[int, list[tuple[bytes, bytes, tuple]]] = defaultdict(list)
        for subject, (partition, state) in done.writes.items():
            states[subject] = state
            by_partition[partition].append((orjson.dumps(subject), orjson.dumps(state), ()))
        topic = changelog_topic(self.app_id, agg.spec.name)
        acks = []
        for partition, entries in by_partition.items():
            acks += await send_batches(self.producer, topic, partition, entries)
        bodies = chunks(done.deltas)
        # The last message carries the events' Kafka timestamps (the inclusion delay metric).
        stamps = metrics.source_timestamps(messages[i].timestamp / 1000 for i, *_ in items)
        key = agg.spec.name.encode()
        for n, body in enumerate(bodies, 1):
            headers = stamps if n == len(bodies) else None
            acks.append(await self.producer.send(agg.deltas_name, body, key=key, headers=headers))
        return acks

    async def _reject(self, m: Any, err: ContractError | Exception, who: str) -> asyncio.Future:
        assert self.producer is not None
        error = (
            err
            if isinstance(err, ContractError)
            else ContractError(
                "aggregate.input", f"event lacks what {who} needs ({type(err).__name__})"
            )
        )
        log.warning(
            "%s: dead-lettered %s[%d]@%d rule=%s", who, m.topic, m.partition, m.offset, error.rule
        )
        letter = dead_letter(
            "aggregate",
            error,
            topic=m.topic,
            partition=m.partition,
            offset=m.offset,
            payload=m.value,
        )
        value = self.ctx.codec.encode("platform.dead_letter", letter)
        return await self.producer.send(self.dlq, value, key=m.key)

    def lag(self) -> list[tuple[str, int, int]]:
        """(topic, partition, messages behind) for each input partition held and read."""
        consumer = self.consumer
        if consumer is None:
            return []
        out = []
        for tp in sorted(consumer.assignment()):
            high = consumer.highwater(tp)
            done = self.committed.get(tp)
            if high is not None and done is not None:
                out.append((tp.topic, tp.partition, max(0, high - done)))
            elif high == 0:
                out.append((tp.topic, tp.partition, 0))
        return out
