"""The live aggregates' stream: share topics read in bulk, children's facts and the cells kept.

Why not faust agents: faust hands an agent one message at a time (a Message, an
Event, a queue, and in its consumer two tasks per message). An agent that does
nothing but count these topics' messages reached 15-32% of a plain aiokafka
consume-and-produce loop over them (tests/perf/bench_aggregates.py prints both).
The intake reads them with aiokafka, the client faust itself uses, a batch of up
to EVENT_BATCH messages at a time, and keeps what faust tables would guarantee:

- Its own consumer group, ``<app id>-intake``. The cells need every child's
  contribution in one place, so the intake applies batches only while it holds
  every partition of its input topics: one aggregates worker per app (a second
  worker of the same app makes both wait, and says so in its log).
- For each aggregate, each subject's state (engine.apply: the facts the aggregate
  keeps) in memory and in the compacted changelog
  ``<app id>-<aggregate>-contributions-changelog``; the cells
  (cellstore.CellStore), which follow from the states, in memory, and the keys of
  the cells ever made in the compacted ``<app id>-<aggregate>-cell-keys-changelog``
  (so a cell every member left is still published as zero after a restart). JSON
  keys and values, as a faust table's. A child's new contributions replace its
  old ones in the cells exactly, so a replayed event changes nothing.
- On every assignment both are restored from their changelogs, and the states'
  contributions are put back into the known cells before the next batch is
  applied.
- A batch's offsets are committed only after its changelog entries and dead
  letters are acknowledged by the broker (acks=all, idempotent producer): at
  least once. A revocation waits for the batch in hand.
- Publication (machinery.py) reads the cells between batches, under the same lock.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from schemas import topics as catalogue
from schemas.codec import Codec
from schemas.errors import ContractError
from schemas.garbage import fewer_collections
from schemas.record_batches import send_batches
from streams import changelogs, metrics
from streams.aggregates import cellstore, engine
from streams.context import StreamContext
from streams.dead_letters import dead_letter

log = logging.getLogger(__name__)

# Messages taken at once: a child's events in one batch make one entry and one
# recomputation of its contributions (PartitionTurns says how a batch is chosen).
EVENT_BATCH = 20000
EVENT_WAIT_MS = 200  # the longest a batch waits to fill
RESTORE_STEP = 2000  # subjects worked out between turns for other tasks while restoring


def changelog_topic(app_id: str, aggregate: str) -> str:
    """The subjects' states (facts) of an aggregate."""
    return f"{app_id}-{aggregate}-contributions-changelog"


def cell_keys_topic(app_id: str, aggregate: str) -> str:
    """The keys of the cells an aggregate has made (a cell once made stays)."""
    return f"{app_id}-{aggregate}-cell-keys-changelog"


def group_id(app_id: str) -> str:
    return f"{app_id}-intake"


@dataclass
class Held:
    """One aggregate as a worker holds it: its subjects' states, its cells, its publisher."""

    spec: engine.AggregateSpec
    store: cellstore.CellStore
    publisher: cellstore.Publisher
    states: dict[str, dict[str, Any]]


def raw_fields(specs: Sequence[engine.AggregateSpec]) -> dict[str, tuple[str, ...]]:
    """Per event type, the fields that every aggregate reading it takes raw
    (AggregateSpec.raw_fields): the intake's decoding leaves them raw."""
    out = {}
    for event_type in {t for spec in specs for t in spec.raw_fields}:
        readers = [spec for spec in specs if engine.reads(spec, event_type)]
        common = set.intersection(*(set(s.raw_fields.get(event_type, ())) for s in readers))
        if common:
            out[event_type] = tuple(sorted(common))
    return out


class PartitionTurns:
    """Chooses the intake's next batch: the fetched records of one partition number of
    every input topic, each number in turn, or else whatever comes first within
    EVENT_WAIT_MS.

    A child's events are keyed by its pseudonym, so they are in the same partition number
    of every input topic. Left to itself, getmany drains the fetched records topic by
    topic, and while catching up a child's events on several topics fell in several
    batches, each of which recomputed the child's contributions: in the benchmark, 83,500
    changelog entries for 141,836 messages, where one per child and aggregate would be
    about 59,000. Taken a partition number at a time, they made 66,000-75,000 (two runs:
    a partition number whose records are not fetched yet is passed over).
    """

    def __init__(self) -> None:
        self.turn = -1  # the partition number taken last

    async def next_batch(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, list[Any]]:
        numbers = max((tp.partition for tp in consumer.assignment()), default=-1) + 1
        for _ in range(numbers):
            self.turn = (self.turn + 1) % numbers
            # the assignment is read again: a rebalance may have come during the last await
            group = [tp for tp in consumer.assignment() if tp.partition == self.turn]
            if group:
                records = await consumer.getmany(*group, timeout_ms=0, max_records=EVENT_BATCH)
                if records:
                    return records
        return await consumer.getmany(timeout_ms=EVENT_WAIT_MS, max_records=EVENT_BATCH)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.intake.lock:  # the batch in hand is committed first
            self.intake.ready = False

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.intake.restore_pending = {(tp.topic, tp.partition) for tp in assigned}


class Intake:
    """Reads an app's aggregate input topics; applies each batch to every aggregate reading it."""

    def __init__(
        self, ctx: StreamContext, held: Sequence[Held], names: Sequence[str], partitions: int
    ):
        self.ctx = ctx
        self.partitions = partitions  # of the changelogs
        self.held = list(held)
        self.names = sorted(names)
        settings = ctx.settings
        self.app_id = settings.app_id
        self.client = {
            "bootstrap_servers": settings.bootstrap_servers,
            **settings.kafka_security.aiokafka(),
        }
        self.lock = asyncio.Lock()
        self.restore_pending: set[tuple[str, int]] | None = None
        self.ready = False  # restored, and holding every input partition: cells may be published
        self.dlq = catalogue.dlq_topic("aggregate", settings.topic_prefix)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.committed: dict[TopicPartition, int] = {}  # offsets this worker committed
        self.turns = PartitionTurns()
        # its own codec: it leaves raw the fields its aggregates take raw
        self.codec = Codec(ctx.codec.catalogue, raw=raw_fields([h.spec for h in self.held]))

    def changelogs(self) -> list[str]:
        return [
            name
            for h in self.held
            for name in (
                changelog_topic(self.app_id, h.spec.name),
                cell_keys_topic(self.app_id, h.spec.name),
            )
        ]

    async def run_forever(self, stopping: Callable[[], bool]) -> None:
        """Run until ``stopping()``; after a failure (Kafka unreachable, a batch not
        acknowledged) start again from the committed offsets, with backoff."""
        with fewer_collections():  # the states and cells: millions of long-lived objects
            await self._run_forever(stopping)

    async def _run_forever(self, stopping: Callable[[], bool]) -> None:
        backoff = 1.0
        while not stopping():
            try:
                await self.run(stopping)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the intake must outlive a broker outage
                self.ready = False
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
                records = await self.turns.next_batch(consumer)
                async with self.lock:
                    if self.restore_pending is not None:
                        await self._restore()
                    if records and self.ready:
                        await self._apply(records)
                    elif records:  # not every partition: nothing is applied or committed
                        for tp in records:
                            consumer.seek(tp, records[tp][0].offset)
                        await asyncio.sleep(1.0)
        finally:
            self.ready = False
            self.consumer = None
            await consumer.stop()
            await producer.stop()

    def _holds_every_partition(self, assigned: set[tuple[str, int]]) -> bool:
        assert self.consumer is not None
        missing = 0
        for name in self.names:
            for p in self.consumer.partitions_for_topic(name) or ():
                missing += (name, p) not in assigned
        if missing:
            log.error(
                "aggregates: this worker holds %d of its input partitions and %d are held by "
                "other workers of app %s; the cells need every child in one worker, so nothing "
                "is applied or published until one aggregates worker runs",
                len(assigned),
                missing,
                self.app_id,
            )
        return not missing

    async def _restore(self) -> None:
        """States and cell keys from their changelogs (a fresh start each time); the cells
        from the states."""
        assigned = self.restore_pending or set()
        self.restore_pending = None
        self.committed.clear()
        self.ready = False
        for h in self.held:
            h.states.clear()
            h.store.load(())
            h.publisher.forget()
        if not assigned or not self._holds_every_partition(assigned):
            return
        targets: dict[str, tuple[Held, bool]] = {}
        for h in self.held:
            targets[changelog_topic(self.app_id, h.spec.name)] = (h, False)
            targets[cell_keys_topic(self.app_id, h.spec.name)] = (h, True)
        entries: dict[str, dict[str, Any]] = {name: {} for name in targets}
        restored = await self._read_changelogs(entries)
        for name, (h, is_cells) in targets.items():
            if is_cells:
                h.store.load(entries[name])
            else:
                h.states.update(entries[name])
        repaired = 0
        for h in self.held:
            # Work of seconds for a large LA, so other tasks get turns in it: a consumer
            # whose heartbeats stop for its session timeout (10 s) is put out of the group,
            # and would restore again after the rebalance.
            contributions = {}
            for i, (s, state) in enumerate(h.states.items(), 1):
                contributions[s] = engine.contributions(h.spec, s, state)
                if not i % RESTORE_STEP:
                    await asyncio.sleep(0)
            made: set[str] = set()
            for some in h.store.reconciling(contributions, RESTORE_STEP):
                made |= some  # cells a crash left unwritten
                await asyncio.sleep(0)
            h.store.summaries()  # now, not in the first publication's hold on the intake
            await asyncio.sleep(0)
            repaired += len(made)
            if acks := await self._write_cells(h, made):
                await asyncio.gather(*acks)
        log.info(
            "intake: %d partition(s) assigned, %d changelog entries restored, %d cell keys "
            "written again",
            len(assigned),
            restored,
            repaired,
        )
        gc.freeze()  # what was restored lives long: kept out of the collector's scans
        self.ready = True

    async def _read_changelogs(self, entries: dict[str, dict[str, Any]]) -> int:
        reader = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **self.client)
        await reader.start()
        try:
            # made with these partitions before the worker starts (internal_topics.py)
            tps = [TopicPartition(t, p) for t in entries for p in range(self.partitions)]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            end = await reader.end_offsets(tps)
            left = {tp for tp in tps if end[tp] > 0}
            n = 0
            while left:
                batch = await reader.getmany(*left, timeout_ms=1000)
                for tp, messages in batch.items():
                    n += changelogs.replay(entries[tp.topic], messages)
                for tp in list(left):
                    if await reader.position(tp) >= end[tp]:
                        left.discard(tp)
            return n
        finally:
            await reader.stop()

    async def _apply(self, records: dict[TopicPartition, list[Any]]) -> None:
        assert self.consumer is not None and self.producer is not None
        messages = [m for batch in records.values() for m in batch]
        metrics.record_received(m.topic for m in messages)
        decoded = []
        rejects: list[tuple[int, ContractError | Exception, str]] = []
        decode = self.codec.decode
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
        for h in self.held:
            mine = [t for t in by_type if engine.reads(h.spec, t)]
            items = (
                by_type[mine[0]]
                if len(mine) == 1
                else sorted((item for t in mine for item in by_type[t]), key=lambda item: item[0])
            )
            if items:
                acks += await self._step(h, items, messages, rejects)
        for i, err, who in rejects:
            acks.append(await self._reject(messages[i], err, who))
        if acks:
            await asyncio.gather(*acks)  # a failure raises: nothing is committed
        offsets = {tp: batch[-1].offset + 1 for tp, batch in records.items() if batch}
        await self.consumer.commit(offsets)
        self.committed.update(offsets)

    async def _step(
        self,
        h: Held,
        items: list[tuple[int, str, Any, int]],
        messages: list[Any],
        rejects: list[tuple[int, ContractError | Exception, str]],
    ) -> list[asyncio.Future]:
        assert self.producer is not None
        done = engine.step(h.spec, h.states.get, items)
        rejects += [(i, err, h.spec.name) for i, err in done.rejected]
        by_partition: dict[int, list[tuple[bytes, bytes, tuple]]] = defaultdict(list)
        made: set[str] = set()
        replace = h.store.replace
        for subject, (partition, state) in done.writes.items():
            h.states[subject] = state
            by_partition[partition].append((orjson.dumps(subject), orjson.dumps(state), ()))
            made |= replace(subject, done.changed[subject])
        topic = changelog_topic(self.app_id, h.spec.name)
        acks = []
        for partition, entries in by_partition.items():
            acks += await send_batches(self.producer, topic, partition, entries)
        acks += await self._write_cells(h, made)
        metrics.taken_in(h.spec.name, [messages[item[0]].timestamp for item in items])
        return acks

    async def _write_cells(self, h: Held, made: set[str]) -> list[asyncio.Future]:
        """The keys of the cells ``made`` on their changelog, each key always in the same
        partition (by its CRC-32: compaction keeps one value)."""
        assert self.producer is not None
        by_partition: dict[int, list[tuple[bytes, bytes | None, tuple]]] = defaultdict(list)
        for key in made:
            key_bytes = orjson.dumps(key)
            by_partition[zlib.crc32(key_bytes) % self.partitions].append((key_bytes, b"1", ()))
        topic = cell_keys_topic(self.app_id, h.spec.name)
        acks = []
        for partition, batch in by_partition.items():
            acks += await send_batches(self.producer, topic, partition, batch)
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
