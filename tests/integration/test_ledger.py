"""The ledger in SQL on the real stack: kill -9 mid-run loses nothing and stores nothing twice;
`chorus ledger person` finds a child from an identifier and says where the information went."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from schemas import topics
from schemas.codec import Codec
from schemas.examples import envelope
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.education import EXAMPLES as EDUCATION
from schemas.examples.health import EXAMPLES as HEALTH
from schemas.identifiers import synthetic_nhs_number, synthetic_upn
from streams.policy_client import PolicyClient
from tests.integration.harness import REPO
from tests.integration.postgres_fixture import postgres_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration
codec = Codec()
WHEN = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
NAMESPACE = uuid.UUID("a4c1e5f0-1b2d-4c3e-8f90-0a1b2c3d4e5f")


def chorus(ns, *args: str, home, quiet: bool = False) -> subprocess.Popen:
    """`chorus ARGS` in this namespace; its output kept to read (or thrown away, `quiet`)."""
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "deploy", *args],
        cwd=REPO,
        env=ns.env(CHORUS_HOME=str(home)),
        stdout=output,
        stderr=output,
        text=True,
        start_new_session=True,
    )


def ledger_entry(n: int, revision: str) -> dict:
    return {
        "event_id": str(uuid.uuid5(NAMESPACE, str(n))),
        "event_type": "case_management.referral",
        "event_time": WHEN,
        "subject_ref": f"{n % 97:032x}",
        "recipient": ("dfe", "la_performance_team")[n % 2],
        "purpose": ("statutory_return", "strategic_reporting")[n % 2],
        "outcome": "SHARED",
        "reason": "allowed",
        "lawful_basis": "UK GDPR Art. 6(1)(e)",
        "fields_transformed": [{"field": "referral_date", "transform": "month"}],
        "fields_withheld": ["referral_team"],
        "policy_revision": revision,
        "decided_at": WHEN,
        "share_topic": "chorus.share.statutory_return.referral",
    }


def stored_keys(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "select event_id, recipient, purpose, policy_revision from chorus_ledger"
        ).fetchall()
    except sqlite3.OperationalError:  # the sink has not created the table yet
        return []
    finally:
        con.close()


def test_kill_9_mid_run_loses_nothing_and_stores_nothing_twice(namespace, tmp_path):
    entries = [ledger_entry(n, "rev1") for n in range(4000)]
    entries += [ledger_entry(n, "rev1") for n in range(0, 4000, 7)]  # the gatekeeper repeating
    entries += [ledger_entry(n, "rev2") for n in range(300)]  # a new revision deciding again
    producer = KafkaProducer(bootstrap_servers=namespace.stack.bootstrap, acks="all")
    ledger = topics.ledger_topic(namespace.prefix)
    for e in entries:
        producer.send(
            ledger, key=e["event_id"].encode(), value=codec.encode("platform.ledger_entry", e)
        )
    producer.flush()
    producer.close()
    expected = {
        (e["event_id"], e["recipient"], e["purpose"], e["policy_revision"]) for e in entries
    }
    db = tmp_path / "ledger.db"
    args = ("ledger", "sink", "--db", f"sqlite:///{db}", "--batch-size", "20")
    first = chorus(namespace, *args, home=tmp_path, quiet=True)
    namespace.poll(lambda: len(stored_keys(db)) >= 200, 60, "the sink to store some entries")
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = len(stored_keys(db))
    assert killed_at < len(expected), "the sink finished before it was killed; use more entries"
    second = chorus(namespace, *args, "--until-idle", home=tmp_path)
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, out + err
    keys = stored_keys(db)
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    admin = KafkaAdminClient(bootstrap_servers=namespace.stack.bootstrap)
    try:
        group = f"{namespace.prefix}chorus-ledger-sink"
        committed = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    assert sum(o.offset for tp, o in committed.items() if tp.topic == ledger) == len(entries)


def one_child_events() -> list[tuple[str, bytes]]:
    ids = {
        "la_child_id": "C0000042",
        "nhs_number": synthetic_nhs_number(4242),
        "upn": synthetic_upn("999", 2001, 20, 42),
    }
    out = []
    for examples, event_type, subject in (
        (CASE_MANAGEMENT, "case_management.person_registered", ids),
        (CASE_MANAGEMENT, "case_management.referral", ids),
        (HEALTH, "health.development_review_completed", {"nhs_number": ids["nhs_number"]}),
        (EDUCATION, "education.attendance_summarised", {"upn": ids["upn"]}),
    ):
        record = copy.deepcopy(examples[event_type])
        full = {"la_child_id": None, "nhs_number": None, "upn": None, **subject}
        record["envelope"] = envelope(event_type, key=f"K-{event_type}", **full)
        out.append((event_type, codec.encode(event_type, record)))
    return out


def sorted_subscriptions(namespace) -> list[tuple[str, str]]:
    async def ask():
        client = PolicyClient(namespace.stack.opa_url)
        try:
            return await client.subscriptions()
        finally:
            await client.close()

    return asyncio.run(ask())


def test_ledger_person_says_where_a_childs_information_went(namespace, tmp_path):
    events = one_child_events()
    producer = KafkaProducer(bootstrap_servers=namespace.stack.bootstrap, acks="all")
    for event_type, value in events:
        domain, name = event_type.split(".", 1)
        producer.send(topics.source_topic(domain, name, namespace.prefix), value=value)
    producer.flush()
    producer.close()
    namespace.start_worker("it-ledger", tmp_path / "worker.log")
    ledger = topics.ledger_topic(namespace.prefix)
    subscriptions = len(sorted_subscriptions(namespace))

    def all_decided() -> bool:
        return len(namespace.decoded(ledger)) >= len(events) * subscriptions

    namespace.poll(all_decided, 120, "a decision for every event and subscription")
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    sink = chorus(namespace, "ledger", "sink", "--db", db, "--until-idle", home=tmp_path)
    out, err = sink.communicate(timeout=120)
    assert sink.returncode == 0, out + err
    app_id = namespace.app_id("it-ledger")
    nhs = synthetic_nhs_number(4242)
    upn = synthetic_upn("999", 2001, 20, 42)
    n = len(events) * subscriptions

    def story(identifier: str) -> str:
        run = chorus(
            namespace,
            "ledger",
            "person",
            identifier,
            "--db",
            db,
            "--identity-app-id",
            app_id,
            home=tmp_path,
        )
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err
        return out

    def complete_story(identifier: str) -> str | None:
        out = story(identifier)
        return out if f"{n} decisions" in out else None

    stories = {}
    for identifier in (nhs, upn, "999:C0000042"):
        # The identity worker's changelogs can lag its decisions by a commit interval (a
        # merge of two person keys not yet written): ask until the register has caught up.
        stories[identifier] = namespace.poll(
            lambda i=identifier: complete_story(i),
            60,
            "the identity register to link every identifier of the child",
        )
        assert identifier not in stories[identifier] and "C0000042" not in stories[identifier]
    text = stories[nhs]
    # Found from any identifier: the same decisions, whatever the identifier was.
    assert text.split("\n", 1)[1] == stories[upn].split("\n", 1)[1]
    assert f"{n} decisions about {len(events)} records" in text
    assert "a referral to children's social care" in text
    assert "the health visitor's 2 to 2½ year development review" in text
    assert "SHARED WITH CHANGES with LA performance and intelligence team" in text
    assert "NOT SHARED with" in text and "Why: " in text and "Lawful basis: " in text
    said = story(synthetic_nhs_number(9999))
    assert "does not know the child" in said


def test_postgresql_stores_each_decision_once_even_when_everything_is_read_twice(
    namespace,
    postgres_url,  # noqa: F811 - the fixture imported above
):
    from sqlalchemy import create_engine, func, select

    from streams.ledger.sink import LedgerSink, SinkSettings
    from streams.ledger.table import LEDGER

    entries = [ledger_entry(n, "rev1") for n in range(300)] + [ledger_entry(5, "rev1")]
    producer = KafkaProducer(bootstrap_servers=namespace.stack.bootstrap, acks="all")
    ledger = topics.ledger_topic(namespace.prefix)
    for e in entries:
        producer.send(ledger, value=codec.encode("platform.ledger_entry", e))
    producer.flush()
    producer.close()
    for group in ("first", "second"):  # a second group reads every entry again
        settings = SinkSettings(
            namespace.stack.bootstrap, postgres_url, ledger, f"{namespace.prefix}{group}", 50
        )
        sink = LedgerSink(settings)
        try:
            stats = sink.run(until_idle=True)
        finally:
            sink.close()
        assert stats.read == len(entries)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(LEDGER)).scalar_one()
            row = conn.execute(select(LEDGER).limit(1)).one()._mapping
    finally:
        engine.dispose()
    assert stored == 300
    assert row["fields_transformed"] == [{"field": "referral_date", "transform": "month"}]
    assert row["event_time"].tzinfo is not None
