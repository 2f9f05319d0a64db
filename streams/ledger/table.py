"""The ledger table: one row per sharing decision, keyed by (event, recipient, purpose, revision).

Portable SQLAlchemy types only, so the same table works in SQLite (the default) and
PostgreSQL. The natural key makes writing idempotent: a decision the sink has stored
already (a redelivered Kafka message, or the gatekeeper repeating an event after a
crash under the same policy revision) is ignored, never stored twice. A new policy
revision deciding the same event again is a new decision and a new row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

NATURAL_KEY = ("event_id", "recipient", "purpose", "policy_revision")

LEDGER = Table(
    "chorus_ledger",
    metadata,
    Column("event_id", String(64), nullable=False, comment="the source event's id"),
    Column("recipient", String(100), nullable=False, comment="recipients.yaml key"),
    Column("purpose", String(100), nullable=False, comment="purposes.yaml key"),
    Column("policy_revision", String(100), nullable=False, comment="the policy that decided"),
    Column("event_type", String(100), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False, comment="business time"),
    Column(
        "subject_ref",
        String(64),
        nullable=True,
        comment="the ledger's own pseudonym of the child (never an identifier)",
    ),
    Column("outcome", String(16), nullable=False, comment="SHARED or NOT_SHARED"),
    Column("lawful_basis", Text, nullable=True),
    Column("fields_released", JSON, nullable=False, comment="fields released as recorded"),
    Column(
        "fields_transformed",
        JSON,
        nullable=False,
        comment="fields released changed: [{field, transform}]",
    ),
    Column("fields_withheld", JSON, nullable=False, comment="fields not released"),
    Column("reason", Text, nullable=False, comment="the policy's reasons, plain English"),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("share_topic", String(255), nullable=True, comment="where the shared event went"),
    Column("kafka_topic", String(255), nullable=False, comment="where this entry was read"),
    Column("kafka_partition", Integer, nullable=False),
    Column("kafka_offset", BigInteger, nullable=False),
    PrimaryKeyConstraint(*NATURAL_KEY, name="pk_chorus_ledger"),
)
Index("ix_chorus_ledger_subject", LEDGER.c.subject_ref, LEDGER.c.decided_at)

# Messages on the ledger topic that are not ledger entries: kept with the reason, so
# nothing read is dropped silently (only the gatekeeper writes the topic, so normally none).
REJECTS = Table(
    "chorus_ledger_rejects",
    metadata,
    Column("kafka_topic", String(255), nullable=False),
    Column("kafka_partition", Integer, nullable=False),
    Column("kafka_offset", BigInteger, nullable=False),
    Column("rule", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("kafka_topic", "kafka_partition", "kafka_offset", name="pk_rejects"),
)


def row_from_entry(entry: Mapping[str, Any], topic: str, partition: int, offset: int) -> dict:
    """The table row of one decoded ``platform.ledger_entry``."""
    transforms = entry.get("fields_transformed") or []
    return {
        "event_id": entry["event_id"],
        "recipient": entry["recipient"],
        "purpose": entry["purpose"],
        "policy_revision": entry["policy_revision"],
        "event_type": entry["event_type"],
        "event_time": _utc(entry["event_time"]),
        "subject_ref": entry.get("subject_ref"),
        "outcome": str(entry["outcome"]),
        "lawful_basis": entry.get("lawful_basis"),
        "fields_released": [t["field"] for t in transforms if t["transform"] == "keep"],
        "fields_transformed": [
            {"field": t["field"], "transform": t["transform"]}
            for t in transforms
            if t["transform"] != "keep"
        ],
        "fields_withheld": list(entry.get("fields_withheld") or []),
        "reason": entry.get("reason") or "",
        "decided_at": _utc(entry["decided_at"]),
        "share_topic": entry.get("share_topic"),
        "kafka_topic": topic,
        "kafka_partition": partition,
        "kafka_offset": offset,
    }


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def insert_new(conn: Connection, table: Table, rows: Iterable[dict], key: Iterable[str]) -> None:
    """Insert `rows`, ignoring any whose `key` is stored already (in this transaction)."""
    rows = list(rows)
    if not rows:
        return
    columns = list(key)
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        conn.execute(insert(table).on_conflict_do_nothing(index_elements=columns), rows)
        return
    # Any other database: one row at a time, each in a savepoint.
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(table.insert(), [row])
        except IntegrityError:
            pass


def unique_rows(rows: Iterable[dict], key: Iterable[str]) -> list[dict]:
    """Rows with the first of each natural key only (a batch can repeat a decision)."""
    columns = tuple(key)
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault(tuple(row[c] for c in columns), row)
    return list(seen.values())
