"""The ledger sink: one transaction per batch, offsets only after it commits, no duplicates."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select

from schemas.codec import Codec
from streams.ledger.sink import LedgerSink, SinkSettings, SinkStats
from streams.ledger.table import LEDGER, REJECTS, metadata, row_from_entry
from tests.examples import referral

Record = namedtuple("Record", "topic partition offset value")
TOPIC = "chorus.ledger"
WHEN = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)


def entry(n: int, revision: str = "rev1", outcome: str = "SHARED", **changes: Any) -> dict:
    e = {
        "event_id": f"00000000-0000-0000-0000-{n:012d}",
        "event_type": "case_management.referral",
        "event_time": WHEN,
        "subject_ref": f"{n:032x}",
        "recipient": "la_performance_team",
        "purpose": "strategic_reporting",
        "outcome": outcome,
        "reason": "strategic reporting may receive referrals",
        "lawful_basis": "UK GDPR Art. 6(1)(e)",
        "fields_transformed": [
            {"field": "referral_source", "transform": "keep"},
            {"field": "referral_date", "transform": "month"},
        ],
        "fields_withheld": ["referral_team"],
        "policy_revision": revision,
        "decided_at": WHEN,
        "share_topic": "chorus.share.strategic_reporting.referral" if outcome == "SHARED" else None,
    }
    e.update(changes)
    return e


def encoded(entries: list[dict], start: int = 0) -> list[Record]:
    codec = Codec()
    return [
        Record(TOPIC, 0, start + i, codec.encode("platform.ledger_entry", e))
        for i, e in enumerate(entries)
    ]


class FakeConsumer:
    """Hands out records in batches; remembers what was committed, and when."""

    def __init__(self, records: list[Record], log: list[str]) -> None:
        self.records = records
        self.position_ = 0
        self.committed = 0
        self.log = log

    def poll(self, timeout_ms: int, max_records: int) -> dict:
        batch = self.records[self.position_ : self.position_ + max_records]
        self.position_ += len(batch)
        return {("t", 0): batch} if batch else {}

    def commit(self) -> None:
        self.log.append("kafka commit")
        self.committed = self.position_

    def assignment(self) -> set:
        return {"tp"}

    def end_offsets(self, parts) -> dict:
        return {"tp": len(self.records)}

    def position(self, tp) -> int:
        return self.position_

    def close(self) -> None:
        pass


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def sink(engine, records, log, batch_size=3) -> tuple[LedgerSink, FakeConsumer]:
    consumer = FakeConsumer(records, log)
    settings = SinkSettings("unused:9092", "sqlite://", TOPIC, "g", batch_size=batch_size)
    return LedgerSink(settings, consumer=consumer, engine=engine), consumer


def count(engine, table=LEDGER) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_row_holds_released_changed_and_withheld_fields_apart():
    row = row_from_entry(entry(1), TOPIC, 2, 40)
    assert row["fields_released"] == ["referral_source"]
    assert row["fields_transformed"] == [{"field": "referral_date", "transform": "month"}]
    assert row["fields_withheld"] == ["referral_team"]
    assert (row["kafka_partition"], row["kafka_offset"]) == (2, 40)


def test_offsets_are_committed_only_after_the_database_transaction(engine):
    log: list[str] = []
    event.listen(engine, "commit", lambda conn: log.append("db commit"))
    s, consumer = sink(engine, encoded([entry(i) for i in range(7)]), log)
    stats = s.run(until_idle=True)
    assert stats.read == 7 and stats.batches == 3
    assert log == ["db commit", "kafka commit"] * 3
    assert count(engine) == 7 and consumer.committed == 7


def test_a_failed_transaction_commits_no_offsets_and_stores_nothing(engine):
    log: list[str] = []
    s, consumer = sink(engine, encoded([entry(i) for i in range(3)]), log)

    def broken(rows, rejects):
        with engine.begin() as conn:
            conn.execute(LEDGER.insert(), [rows[0]])
            raise RuntimeError("database went away")

    s.write = broken
    with pytest.raises(RuntimeError):
        s.run_batch(SinkStats())
    assert consumer.committed == 0 and "kafka commit" not in log
    assert count(engine) == 0


def test_a_batch_read_again_after_a_crash_stores_nothing_twice(engine):
    records = encoded([entry(i) for i in range(5)])
    first, _ = sink(engine, records, [], batch_size=5)
    first.write(*first.rows(records))  # stored, then "killed" before the offset commit
    again, consumer = sink(engine, records, [], batch_size=5)
    again.run(until_idle=True)
    assert count(engine) == 5 and consumer.committed == 5


def test_the_natural_key_keeps_one_row_per_decision_and_revision(engine):
    entries = [entry(1), entry(1, decided_at=WHEN + dt.timedelta(seconds=5)), entry(1, "rev2")]
    s, _ = sink(engine, encoded(entries), [], batch_size=10)
    s.run(until_idle=True)
    with engine.connect() as conn:
        rows = conn.execute(select(LEDGER.c.policy_revision, LEDGER.c.decided_at)).all()
    assert sorted(r.policy_revision for r in rows) == ["rev1", "rev2"]
    first = next(r for r in rows if r.policy_revision == "rev1")
    assert first.decided_at.replace(tzinfo=dt.UTC) == WHEN  # the first decision stored wins


def test_a_message_that_is_not_a_ledger_entry_is_kept_aside_not_dropped(engine):
    codec = Codec()
    finding = Record(TOPIC, 0, 1, b"not avro")
    other = Record(TOPIC, 0, 2, codec.encode("case_management.referral", referral()))
    s, consumer = sink(engine, [*encoded([entry(1)]), finding, other], [], batch_size=10)
    stats = s.run(until_idle=True)
    assert stats.rejected == 2 and count(engine) == 1 and count(engine, REJECTS) == 2
    assert consumer.committed == 3
