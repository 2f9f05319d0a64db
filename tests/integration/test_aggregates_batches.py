"""How the aggregates' intake chooses its batches, on the real broker."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from streams.aggregates.intake import PartitionTurns
from tests.integration.harness import Namespace, poll

pytestmark = pytest.mark.integration
PARTITIONS = 4


async def batches(ns: Namespace, names: list[str], expected: int) -> list[dict]:
    """Every batch PartitionTurns hands out once the consumer has fetched all messages,
    then one more call, which finds nothing."""
    consumer = AIOKafkaConsumer(
        *names, bootstrap_servers=ns.stack.bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        for _ in range(600):  # the fetcher has every partition's records in hand
            tps = consumer.assignment()
            if len(tps) == len(names) * PARTITIONS and all(
                consumer.highwater(tp) is not None for tp in tps
            ):
                break
            await asyncio.sleep(0.05)
        turns, out, seen = PartitionTurns(), [], 0
        while seen < expected:
            records = await turns.next_batch(consumer)
            assert records, "a batch came back empty with messages left"
            out.append(records)
            seen += sum(len(r) for r in records.values())
        out.append(await turns.next_batch(consumer))
        return out
    finally:
        await consumer.stop()


def test_a_batch_holds_one_partition_number_of_every_input_topic(namespace: Namespace):
    """So a child's events on several topics (one key, one partition number) come in one
    batch, and its contributions are worked out once for them."""
    names = [f"{namespace.prefix}batches.{t}" for t in ("referrals", "assessments", "plans")]
    admin = KafkaAdminClient(bootstrap_servers=namespace.stack.bootstrap)
    try:
        admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
        poll(lambda: set(names) <= set(admin.list_topics()) or None, 60, "topics")
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=namespace.stack.bootstrap, acks="all")
    sent = 0
    try:
        for topic in names:  # topic by topic, as a backlog builds up
            for child in range(40):
                producer.send(topic, key=b"child-%d" % child, value=b"event")
                sent += 1
        producer.flush()
    finally:
        producer.close()
    try:
        got = asyncio.run(batches(namespace, names, sent))
    finally:
        namespace.delete_topics()

    assert got[-1] == {}, "nothing is left, so the last call waits and returns no batch"
    got = got[:-1]
    batch_of: dict[bytes, set[int]] = defaultdict(set)
    for i, records in enumerate(got):
        assert len({tp.partition for tp in records}) == 1, "one partition number per batch"
        assert {tp.topic for tp in records} == set(names), "every topic in each batch"
        for messages in records.values():
            for m in messages:
                batch_of[m.key].add(i)
    assert sum(len(m) for r in got for m in r.values()) == sent
    assert len(batch_of) == 40
    assert all(len(b) == 1 for b in batch_of.values()), "each child's events in one batch"
    assert len(got) == PARTITIONS
