"""Dead letters from connectors: the rule, the field and the source coordinates, never values.

The original record goes in the restricted payload so it can be replayed once fixed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from connectors.common.base import Rejected
from connectors.common.publisher import Message
from schemas.codec import Codec

log = logging.getLogger(__name__)


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_payload(row: dict[str, Any]) -> bytes:
    """A source row as JSON bytes for the dead-letter payload."""
    return json.dumps(row, default=_json_default, sort_keys=True).encode()


def log_dead_letters(connector: str, rejected: Iterable[Rejected]) -> None:
    """One log line per table, rule and field in a batch, with the count, not one per record.

    Keys stay out of the log: for a person table the key is the LA child id. The dead
    letters on their restricted topic hold them.
    """
    counts = Counter((r.coordinates.entity, r.error.rule, r.error.field) for r in rejected)
    for (entity, rule, column), n in sorted(counts.items(), key=str):
        log.warning(
            "%s: dead-lettered %d record(s) of %s rule=%s field=%s",
            connector,
            n,
            entity,
            rule,
            column,
        )


def dead_letter_message(codec: Codec, topic: str, connector: str, rejected: Rejected) -> Message:
    c = rejected.coordinates
    letter = {
        "stage": "connector",
        "rule": rejected.error.rule,
        "field": rejected.error.field,
        "reason": rejected.error.reason,
        "event_type": rejected.event_type,
        "event_id": None,
        "source": c.as_record(),
        "kafka": None,
        "failed_at": dt.datetime.now(dt.UTC),
        "payload_format": rejected.payload_format,
        "payload": rejected.payload,
    }
    return Message(
        topic,
        f"{c.entity}:{c.key}".encode(),
        codec.encode("platform.dead_letter", letter),
        (("chorus-connector", connector.encode()),),
    )
