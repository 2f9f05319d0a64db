"""Kafka as Strimzi resources: the cluster (KRaft, node pool), a KafkaTopic per planned topic,
and a KafkaUser per principal with exactly the ACLs of the access plan.

Strimzi's user operator creates a Secret named after each KafkaUser holding its SCRAM
password; nothing secret is written here.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from deploy.access.plan import ADMIN, AccessPlan, Acl, Principal
from deploy.local.kafka import kafka_version
from schemas.topics import TopicSpec

API = "kafka.strimzi.io/v1beta2"
CLUSTER = "chorus"  # the Strimzi Kafka resource; its bootstrap Service is chorus-kafka-bootstrap
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap:9093"
CA_SECRET = f"{CLUSTER}-cluster-ca-cert"  # created by Strimzi, key ca.crt
BROKERS = 3
REPLICAS = 3
MIN_INSYNC = 2

#: Strimzi's spelling of Kafka's ACL operations (KafkaUser spec.authorization.acls[].operations).
OPERATIONS = {
    "ALL": "All",
    "ALTER": "Alter",
    "ALTER_CONFIGS": "AlterConfigs",
    "CLUSTER_ACTION": "ClusterAction",
    "CREATE": "Create",
    "DELETE": "Delete",
    "DESCRIBE": "Describe",
    "DESCRIBE_CONFIGS": "DescribeConfigs",
    "IDEMPOTENT_WRITE": "IdempotentWrite",
    "READ": "Read",
    "WRITE": "Write",
}
RESOURCE_TYPES = {
    "TOPIC": "topic",
    "GROUP": "group",
    "CLUSTER": "cluster",
    "TRANSACTIONAL_ID": "transactionalId",
}


def resource_name(name: str) -> str:
    """A Kubernetes object name (DNS-1123: lower case, digits, '-' and '.') for a Kafka name."""
    return name.lower().replace("_", "-")


def _labels() -> dict[str, str]:
    return {"strimzi.io/cluster": CLUSTER, "app.kubernetes.io/part-of": "chorus"}


def node_pool() -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "KafkaNodePool",
        "metadata": {"name": "dual-role", "labels": _labels()},
        "spec": {
            "replicas": BROKERS,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": "100Gi",
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
            "resources": {
                "requests": {"cpu": "1", "memory": "4Gi"},
                "limits": {"memory": "4Gi"},
            },
        },
    }


def kafka_cluster() -> dict[str, Any]:
    version = kafka_version()
    return {
        "apiVersion": API,
        "kind": "Kafka",
        "metadata": {
            "name": CLUSTER,
            "annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"},
            "labels": {"app.kubernetes.io/part-of": "chorus"},
        },
        "spec": {
            "kafka": {
                "version": version,
                "metadataVersion": ".".join(version.split(".")[:2]) + "-IV0",
                "listeners": [
                    {
                        "name": "tls",
                        "port": 9093,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                    }
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN]},
                # min.insync.replicas is set per KafkaTopic, not here: the workers' own
                # faust topics (changelogs) are created by faust with its replication
                # factor, and a broker-wide minimum above it would refuse their writes.
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": REPLICAS,
                    "offsets.topic.replication.factor": REPLICAS,
                    "transaction.state.log.replication.factor": REPLICAS,
                    "transaction.state.log.min.isr": MIN_INSYNC,
                },
            },
            "entityOperator": {
                "topicOperator": {"resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}},
                "userOperator": {"resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}},
            },
        },
    }


def kafka_topic(topic: TopicSpec) -> dict[str, Any]:
    config: dict[str, Any] = {"min.insync.replicas": MIN_INSYNC}
    config.update(topic.kafka_config())
    metadata: dict[str, Any] = {"name": resource_name(topic.name), "labels": _labels()}
    if topic.description:
        metadata["annotations"] = {"chorus/description": topic.description}
    return {
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": metadata,
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": REPLICAS,
            "config": dict(sorted(config.items())),
        },
    }


def strimzi_acl(resource: tuple[str, str, str], acls: list[Acl]) -> dict[str, Any]:
    """One Strimzi ACL rule: a resource and the operations allowed on it."""
    rtype, name, pattern = resource
    res: dict[str, Any] = {"type": RESOURCE_TYPES[rtype]}
    if rtype != "CLUSTER":
        res["name"] = name
        res["patternType"] = pattern.lower()
    return {
        "resource": res,
        "operations": sorted(OPERATIONS[a.operation] for a in acls),
        "host": "*",
        "type": acls[0].permission.lower(),
    }


def kafka_user(principal: Principal, acls: tuple[Acl, ...]) -> dict[str, Any]:
    spec: dict[str, Any] = {"authentication": {"type": "scram-sha-512"}}
    if principal.kind != "admin":

        def key(a: Acl) -> tuple[str, str, str, str]:
            return (a.resource_type, a.resource_name, a.pattern_type, a.permission)

        rules = [
            strimzi_acl(k[:3], list(group)) for k, group in groupby(sorted(acls, key=key), key=key)
        ]
        spec["authorization"] = {"type": "simple", "acls": rules}
    return {
        "apiVersion": API,
        "kind": "KafkaUser",
        "metadata": {
            "name": resource_name(principal.name),
            "labels": _labels() | {"chorus/principal-kind": principal.kind},
            "annotations": {"chorus/description": principal.description},
        },
        "spec": spec,
    }


def topics(plan: AccessPlan) -> list[dict[str, Any]]:
    return [kafka_topic(t) for t in plan.topics]


def users(plan: AccessPlan) -> list[dict[str, Any]]:
    return [kafka_user(p, plan.for_principal(p.name)) for p in plan.principals]
