"""Publishing a batch of events: idempotent producer, acks=all, a wait for every acknowledgement.

The caller stores its source position only after `publish` returns, so a crash
between the two re-publishes events whose ids are deterministic: harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaProducer


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class PublishError(Exception):
    """The broker did not acknowledge every message of a batch."""


class Publisher:
    def __init__(self, bootstrap_servers: str, client_id: str) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            batch_size=256 * 1024,
            compression_type=None,
            max_block_ms=30_000,
            request_timeout_ms=30_000,
            delivery_timeout_ms=120_000,
        )

    def publish(self, messages: Iterable[Message], timeout_s: float = 120.0) -> int:
        futures = [
            self._producer.send(m.topic, key=m.key, value=m.value, headers=list(m.headers))
            for m in messages
        ]
        self._producer.flush(timeout=timeout_s)
        failed = 0
        for f in futures:
            if not f.is_done or f.failed():
                failed += 1
        if failed:
            raise PublishError(f"{failed} of {len(futures)} messages were not acknowledged")
        return len(futures)

    def close(self) -> None:
        self._producer.close(timeout=10)
