"""Authenticated, authorised Kafka on a private secured stack (CHORUS_KAFKA_SECURITY=sasl).

Every principal has its own SCRAM user and only the ACLs `chorus access apply` derives
from policies/data: a recipient reads its own purpose's share topics in its own
consumer groups and nothing else, an unauthenticated client gets nowhere, and when an
agreement has expired, applying the plan again takes the recipient's reads away.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from deploy.access.plan import GATEKEEPER, recipient_group_prefix, recipient_principal
from deploy.secrets import LocalSecrets
from schemas import topics
from schemas.kafka_security import SASL_PLAINTEXT, KafkaSecurity
from tests.integration.harness import REPO, secured_private_stack

pytestmark = pytest.mark.integration

RECIPIENT = "la_performance_team"  # strategic_reporting in force; research expired
OWN_TOPIC = topics.share_topic("strategic_reporting", "referral")
OTHER_PURPOSE = topics.share_topic("research", "person_registered")
SOURCE = topics.source_topic("case_management", "referral")
AFTER_EXPIRY = "2028-01-01"  # isa_strategic_reporting expires 2027-12-31


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with secured_private_stack(tmp_path_factory.mktemp("secured") / "home") as (settings, env):
        yield settings, env


def as_user(settings, name: str) -> KafkaSecurity:
    password = LocalSecrets.under(settings.state_dir).password(name, create=False)
    return KafkaSecurity(SASL_PLAINTEXT, username=name, password=password)


def read(settings, who: KafkaSecurity, topic: str, group: str | None, want: int = 1) -> int:
    """Messages `who` reads from `topic` (all partitions) within 15 s; raises when refused."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **who.kafka_python(),
    )
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(4)])
        seen, end = 0, time.monotonic() + 15
        while time.monotonic() < end and seen < want:
            seen += sum(len(batch) for batch in consumer.poll(timeout_ms=1000).values())
        if group is not None:
            consumer.commit()  # the group itself must be allowed
        return seen
    finally:
        consumer.close()


def access(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "deploy", "access", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def shared_message(secured):
    """One message on the recipient's own share topic, written by the gatekeeper's user."""
    settings, _ = secured
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        **as_user(settings, GATEKEEPER).kafka_python(),
    )
    producer.send(OWN_TOPIC, key=b"k", value=b"synthetic test payload").get(timeout=30)
    producer.close()
    return OWN_TOPIC


def test_a_second_apply_changes_nothing(secured):
    _, env = secured
    out = access(env, "apply")
    assert "added 0, removed 0," in out
    assert "users: created 0, rotated 0," in out


def test_a_recipient_reads_its_own_share_topic_in_its_own_group(secured, shared_message):
    settings, _ = secured
    who = as_user(settings, recipient_principal(RECIPIENT))
    group = recipient_group_prefix(RECIPIENT) + "reader"
    assert read(settings, who, shared_message, group) >= 1


@pytest.mark.parametrize(
    "topic",
    [SOURCE, topics.linked_topic(), OTHER_PURPOSE, topics.ledger_topic()],
    ids=["source", "linked", "other-purpose", "ledger"],
)
def test_a_recipient_is_refused_on_topics_not_its_own(secured, shared_message, topic):
    settings, _ = secured
    who = as_user(settings, recipient_principal(RECIPIENT))
    with pytest.raises(TopicAuthorizationFailedError):  # in a group it may use
        read(settings, who, topic, recipient_group_prefix(RECIPIENT) + "probe")


@pytest.mark.parametrize(
    "group", ["chorus-ledger-sink", recipient_group_prefix("dfe") + "reader", "anything"]
)
def test_a_recipient_is_refused_in_other_groups(secured, shared_message, group):
    settings, _ = secured
    who = as_user(settings, recipient_principal(RECIPIENT))
    with pytest.raises(GroupAuthorizationFailedError):
        read(settings, who, shared_message, group)


def test_a_wrong_password_and_no_authentication_are_refused(secured, shared_message):
    settings, _ = secured
    bootstrap = settings.bootstrap_servers
    with pytest.raises(KafkaError):
        KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, bootstrap_timeout_ms=3000
        ).list_topics()
    wrong = KafkaSecurity(SASL_PLAINTEXT, username=recipient_principal(RECIPIENT), password="x")
    with pytest.raises(KafkaError):
        KafkaAdminClient(
            bootstrap_servers=bootstrap, bootstrap_timeout_ms=3000, **wrong.kafka_python()
        ).list_topics()
    producer = None
    with pytest.raises(KafkaError):
        producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=3000)
        producer.send(SOURCE, value=b"unauthenticated").get(timeout=5)
    if producer is not None:
        producer.close(timeout=1)


def test_after_an_agreement_expires_apply_removes_the_recipients_reads(secured, shared_message):
    settings, env = secured
    who = as_user(settings, recipient_principal(RECIPIENT))
    group = recipient_group_prefix(RECIPIENT) + "after-expiry"
    assert read(settings, who, shared_message, group) >= 1

    out = access(env, "apply", "--today", AFTER_EXPIRY)
    removed = f"- User:{recipient_principal(RECIPIENT)} ALLOW READ TOPIC PREFIXED"
    assert removed in out
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):
        read(settings, who, shared_message, group)
    assert "added 0, removed 0," in access(env, "apply", "--today", AFTER_EXPIRY)

    # and applying today's plan gives the reads back
    assert "removed 0," in access(env, "apply")
    assert read(settings, who, shared_message, group + "-again") >= 1


def test_secrets_are_files_only_their_owner_can_read(secured):
    settings, env = secured
    folder = LocalSecrets.under(settings.state_dir).folder
    assert folder.stat().st_mode & 0o777 == 0o700
    files = list(folder.glob("*.password"))
    assert len(files) >= 17  # admin, controller and every principal of the plan
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    properties = Path(settings.state_dir) / "kafka" / "server.properties"
    assert properties.stat().st_mode & 0o777 == 0o600
    plan_text = access(env, "plan")
    assert not any(f.read_text().strip() in plan_text for f in files)
