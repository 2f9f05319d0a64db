"""The whole flow on authenticated Kafka with the ACLs of the access plan, each process as itself.

A private secured stack (CHORUS_KAFKA_SECURITY=sasl) is started and `chorus access apply`
run. A small synthetic LA (`chorus synth`) is published by `chorus connector run`, each
connector as its own Kafka user; identity linkage, the gatekeeper and the aggregates run
as three `chorus worker` processes under their own principals and app ids, as the plan
expects; the ledger sink copies the ledger into SQL as its own user. Then a recipient
reads its own share topic and the dashboard's user reads an aggregate topic, each in a
consumer group it is allowed.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kafka import KafkaConsumer, TopicPartition

from deploy.access import plan as access
from deploy.commands.worker import worker_command
from deploy.local.secured import admin_security
from deploy.secrets import LocalSecrets
from schemas import topics
from schemas.kafka_security import SASL_PLAINTEXT, KafkaSecurity
from tests.integration.harness import REPO, Namespace, Stack, free_port, secured_private_stack

pytestmark = pytest.mark.integration

CHILDREN, SEED = 120, 8
RECIPIENT = "la_performance_team"  # strategic_reporting has an agreement in force
PURPOSE = "strategic_reporting"


def chorus(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run `chorus ARGS` to its end; on failure or time-out, show the end of what it said."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "deploy", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        said = (exc.stderr or b"").decode(errors="replace").splitlines()
        raise AssertionError(f"chorus {args[0]} did not end: " + "\n".join(said[-15:])) from None
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def as_user(settings, name: str) -> KafkaSecurity:
    password = LocalSecrets.under(settings.state_dir).password(name, create=False)
    return KafkaSecurity(SASL_PLAINTEXT, username=name, password=password)


def user_env(env: dict[str, str], settings, name: str) -> dict[str, str]:
    """`chorus` authenticating as `name`, with its password file from the stack's store."""
    return dict(
        env,
        CHORUS_KAFKA_BOOTSTRAP=settings.bootstrap_servers,
        CHORUS_OPA_URL=settings.opa_url,
        CHORUS_KAFKA_USERNAME=name,
        CHORUS_KAFKA_PASSWORD_FILE=str(LocalSecrets.under(settings.state_dir).path(name)),
    )


def start(ns: Namespace, cmd: list[str], env: dict[str, str], log: Path) -> None:
    fh = open(log, "ab")  # noqa: SIM115 - the process owns it until it ends
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
    )
    ns.processes.append(proc)
    ns.logs.append(log)


def messages(settings, who: KafkaSecurity, names: list[str]) -> dict[str, int]:
    """How many messages each topic holds (end offsets), asked as `who`."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, **who.kafka_python()
    )
    try:
        out = {}
        for name in names:
            parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()]
            out[name] = sum(consumer.end_offsets(parts).values()) if parts else 0
        return out
    finally:
        consumer.close()


def read_as(settings, who: KafkaSecurity, topic: str, group: str, want: int) -> int:
    """Messages `who` reads from `topic` in consumer group `group` (committed) within 30 s."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **who.kafka_python(),
    )
    try:
        consumer.assign(
            [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        )
        seen, end = 0, time.monotonic() + 30
        while time.monotonic() < end and seen < want:
            seen += sum(len(batch) for batch in consumer.poll(timeout_ms=1000).values())
        consumer.commit()
        return seen
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with secured_private_stack(tmp_path_factory.mktemp("secured-flow") / "home") as stack:
        yield stack


def test_the_flow_runs_with_each_process_under_its_own_principal(secured, tmp_path):
    settings, env = secured
    assert "added 0, removed 0," in chorus(env, "access", "apply")  # `stack up` applied it
    ns = Namespace(Stack(settings.bootstrap_servers, settings.opa_url), prefix="")
    admin = admin_security(settings.state_dir)
    try:
        out = tmp_path / "la"
        chorus(env, "synth", "--out", str(out), "--children", str(CHILDREN), "--seed", str(SEED))
        for principal, roles in access.WORKER_ROLES.items():
            cmd = worker_command(sys.executable, principal, 1.0, free_port(), "--roles", roles)
            start(ns, cmd, user_env(env, settings, principal), tmp_path / f"{roles}.log")

        published = 0
        for config in sorted(out.glob("*.connector.yaml")):
            kind = yaml.safe_load(config.read_text(encoding="utf-8"))["connector"]
            who = user_env(env, settings, access.connector_principal(kind))
            text = chorus(who, "connector", "run", str(config), "--until-idle")
            n = int(re.search(r"published (\d+)", text).group(1))
            assert n > 0, config.name
            published += n

        share_topics = [t.name for t in access.access_plan().topics if ".share." in t.name]
        agg_topics = [topics.agg_topic(a) for a in topics.AGGREGATES]
        ledger = topics.ledger_topic()

        def arrived() -> dict[str, int] | None:
            counts = messages(settings, admin, [ledger, *share_topics, *agg_topics])
            flowed = counts[ledger] and any(counts[t] for t in agg_topics)
            return counts if flowed and any(counts[t] for t in share_topics) else None

        counts = ns.poll(arrived, 180, "shares, ledger entries and aggregate cells")
        linked = messages(settings, admin, [topics.linked_topic()])[topics.linked_topic()]
        assert linked > published * 0.5  # the identity worker linked what was published

        # the ledger sink, as its own user, in its own group
        db = tmp_path / "ledger.db"
        sink_env = user_env(env, settings, access.LEDGER_SINK)
        text = chorus(sink_env, "ledger", "sink", "--db", f"sqlite:///{db}", "--until-idle")
        read = int(re.search(r"read (\d+) entries", text).group(1))
        assert read >= counts[ledger]
        with sqlite3.connect(db) as conn:
            tables = [
                r[0] for r in conn.execute("select name from sqlite_master where type='table'")
            ]
            assert (
                sum(conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables) >= read
            )

        # a recipient reads its own share topic; the dashboard's user reads an aggregate topic
        own = [
            t for t in share_topics if t.startswith(topics.share_topic(PURPOSE, "")) and counts[t]
        ]
        assert own, "nothing shared for strategic reporting"
        recipient = as_user(settings, access.recipient_principal(RECIPIENT))
        group = access.recipient_group_prefix(RECIPIENT) + "flow"
        assert read_as(settings, recipient, own[0], group, counts[own[0]]) >= counts[own[0]]
        agg = next(t for t in agg_topics if counts[t])
        dashboard = as_user(settings, access.DASHBOARD)
        assert read_as(settings, dashboard, agg, f"{access.DASHBOARD}.flow", 1) >= 1
        ns.check_alive()
    finally:
        ns.stop_processes()
