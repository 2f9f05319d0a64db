"""The local stack as `chorus stack up` leaves it: Kafka answers, the catalogue topics exist
with the right shape, OPA is healthy.

Addresses come from CHORUS_KAFKA_BOOTSTRAP and CHORUS_OPA_URL through the ``stack``
fixture (tests/integration/conftest.py), which fails, never skips, when the stack is down.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from deploy.topic_plan import planned_topics
from schemas.topics import TopicSpec
from tests.integration.harness import Stack

pytestmark = pytest.mark.integration

CATALOGUE = planned_topics()


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=stack.bootstrap, request_timeout_ms=10_000)
    yield client
    client.close()


def test_kafka_metadata_answers(admin: KafkaAdminClient, stack: Stack) -> None:
    cluster = admin.describe_cluster()

    assert cluster["cluster_id"], f"no cluster id from {stack.bootstrap}"
    assert cluster["brokers"], f"Kafka at {stack.bootstrap} reports no brokers"


def test_every_catalogue_topic_exists_with_its_partition_count(admin: KafkaAdminClient) -> None:
    described = {t["name"]: t for t in admin.describe_topics([s.name for s in CATALOGUE])}

    missing = [s.name for s in CATALOGUE if described.get(s.name, {}).get("error_code", 1) != 0]
    assert not missing, f"topics missing (run `chorus stack up`): {missing}"
    counts = {s.name: len(described[s.name]["partitions"]) for s in CATALOGUE}
    assert counts == {s.name: s.partitions for s in CATALOGUE}


def _expected_cleanup_policy(spec: TopicSpec) -> str:
    return spec.kafka_config().get("cleanup.policy", "delete")


def test_every_catalogue_topic_has_its_cleanup_policy(admin: KafkaAdminClient) -> None:
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, s.name, ["cleanup.policy"]) for s in CATALOGUE
    ]
    configs = admin.describe_configs(resources, config_filter="all")["topic"]

    actual = {s.name: configs[s.name]["cleanup.policy"]["value"] for s in CATALOGUE}
    assert actual == {s.name: _expected_cleanup_policy(s) for s in CATALOGUE}


def test_catalogue_has_a_compacted_topic() -> None:
    # Guards the test above against passing trivially with "delete" everywhere.
    assert any(_expected_cleanup_policy(s) == "compact" for s in CATALOGUE)


def test_opa_health_answers_200(stack: Stack) -> None:
    with urllib.request.urlopen(f"{stack.opa_url}/health", timeout=5) as resp:
        assert resp.status == 200
