"""The case-management connector: read referrals after the stored position, publish them,
and store the new position only once the broker has acknowledged every event.

Rows that break a rule go to chorus.dlq.connector with their table, key and the
rule; the position moves past them, because the dead letter holds them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from connectors.case_management import mapping
from connectors.case_management.client import CaseManagementClient, HighWaterMark
from connectors.case_management.config import CaseManagementConfig
from connectors.common.positions import PositionStore
from connectors.common.publisher import Message, Publisher, PublishError
from schemas import topics
from schemas.codec import Codec
from schemas.errors import ContractError

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0


@dataclass
class RunStats:
    read: int = 0
    published: int = 0
    dead_lettered: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


class CaseManagementConnector:
    def __init__(self, config: CaseManagementConfig, codec: Codec | None = None) -> None:
        self.config = config
        self.codec = codec or Codec()
        self.client = CaseManagementClient(config.source_url)
        self.positions = PositionStore(config.position_path)
        self._publisher: Publisher | None = None
        self.source_topic = topics.source_topic("case_management", "referral", config.topic_prefix)
        self.dlq_topic = topics.dlq_topic("connector", config.topic_prefix)

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(self.config.kafka_bootstrap, f"chorus-{self.config.name}")
        return self._publisher

    def position(self) -> HighWaterMark | None:
        return HighWaterMark.from_json(self.positions.load())

    def _messages(self, rows: list[dict[str, Any]], stats: RunStats) -> list[Message]:
        out: list[Message] = []
        for row in rows:
            try:
                event = mapping.referral_event(
                    row,
                    source_instance=self.config.name,
                    source_system=self.config.source_system,
                    la_code=self.config.la_code,
                )
                value = self.codec.encode(mapping.EVENT_TYPE, event)
            except ContractError as err:
                out.append(self._dead_letter(row, err))
                stats.dead_lettered += 1
                continue
            key = event["envelope"]["subject"]["la_child_id"].encode()
            out.append(
                Message(
                    self.source_topic,
                    key,
                    value,
                    (("chorus-event-type", mapping.EVENT_TYPE.encode()),),
                )
            )
            stats.published += 1
        return out

    def _dead_letter(self, row: dict[str, Any], err: ContractError) -> Message:
        key = str(row.get("cine_referral_id"))
        version = row.get("last_updated")
        log.warning(
            "dead-lettered %s key=%s rule=%s field=%s", mapping.ENTITY, key, err.rule, err.field
        )
        letter = {
            "stage": "connector",
            "rule": err.rule,
            "field": err.field,
            "reason": err.reason,
            "event_type": mapping.EVENT_TYPE,
            "event_id": None,
            "source": {
                "entity": mapping.ENTITY,
                "key": key,
                "version": version.isoformat() if version else "",
            },
            "kafka": None,
            "failed_at": dt.datetime.now(dt.UTC),
            "payload_format": "json",
            "payload": json.dumps(row, default=_json_default, sort_keys=True).encode(),
        }
        return Message(
            self.dlq_topic, key.encode(), self.codec.encode("platform.dead_letter", letter)
        )

    def run_batch(self, stats: RunStats) -> int:
        """Publish one batch; returns the number of source rows it covered (0 when idle)."""
        mark = self.position()
        rows = self.client.referrals_after(mark, self.config.batch_size)
        if not rows:
            return 0
        messages = self._messages(rows, stats)
        self.publisher.publish(messages)
        last = rows[-1]
        self.positions.save(
            HighWaterMark(last["last_updated"], str(last["cine_referral_id"])).to_json()
        )
        stats.read += len(rows)
        stats.batches += 1
        return len(rows)

    def run(self, stop: threading.Event | None = None, until_idle: bool = False) -> RunStats:
        """Run until stopped (or, with until_idle, until nothing is new), retrying with backoff."""
        stop = stop or threading.Event()
        stats = RunStats()
        started = time.monotonic()
        backoff = 1.0
        while not stop.is_set():
            try:
                n = self.run_batch(stats)
                backoff = 1.0
            except (PublishError, SQLAlchemyError, OSError) as exc:
                kind = "source" if isinstance(exc, SQLAlchemyError) else "kafka"
                log.warning(
                    "%s unavailable (%s); retrying in %.0fs", kind, type(exc).__name__, backoff
                )
                stats.errors.append(type(exc).__name__)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if n == 0:
                if until_idle:
                    break
                stop.wait(self.config.poll_interval_s)
        stats.seconds = time.monotonic() - started
        return stats

    def lag(self) -> int:
        """Source rows not yet published."""
        return self.client.count_referrals_after(self.position())

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
