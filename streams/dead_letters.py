"""Dead letters from stream processors: the rule broken and where, never the values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.errors import ContractError
from streams.metrics import DEAD_LETTERS

# A dead letter must itself fit in a Kafka message. A larger original stays where it
# was (the dead letter's Kafka coordinates point at it) and is not copied.
MAX_PAYLOAD_BYTES = 512 * 1024


def dead_letter(
    stage: str,
    error: ContractError,
    *,
    topic: str,
    partition: int,
    offset: int,
    payload: bytes | None,
    event_type: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    DEAD_LETTERS.labels(stage, error.rule).inc()
    return {
        "stage": stage,
        "rule": error.rule,
        "field": error.field,
        "reason": error.reason,
        "event_type": event_type,
        "event_id": event_id,
        "source": None,
        "kafka": {"topic": topic, "partition": partition, "offset": offset},
        "failed_at": dt.datetime.now(dt.UTC),
        "payload_format": "avro-single-object"
        if payload is None or len(payload) <= MAX_PAYLOAD_BYTES
        else f"omitted: {len(payload)} bytes, still at the Kafka coordinates",
        "payload": payload if payload is None or len(payload) <= MAX_PAYLOAD_BYTES else None,
    }
