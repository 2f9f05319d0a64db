"""Kubernetes manifests for the Chorus processes: OPA, workers, connectors, dashboard, sinks.

Kafka itself, its topics and users are Strimzi resources (``strimzi.py``). Secrets are only
referenced by name: Strimzi creates one per KafkaUser (its SCRAM password) and the cluster
CA; the operator creates the pseudonymisation key, the OPA verification key, the
databases' passwords and the connectors' source credentials (deploy/k8s/README.md).
"""

from __future__ import annotations

from typing import Any

from deploy.production import strimzi
from deploy.production.common import (
    CHORUS_IMAGE,
    OPA_PORT,
    PSEUDONYM_KEY_SECRET,
    SECRETS_DIR,
    STATE_DIR,
    Process,
    health_probe_command,
)
from deploy.production.connector_configs import (
    connector_config,
    connector_secret,
    connector_settings,
)

NAMESPACE = "chorus"
DB_SECRET = "chorus-db"  # key: password (of the database user chorus)

#: The Chorus image runs as uid 10001 (deploy/production/Dockerfile); fsGroup makes the
#: mounted Secrets and volumes readable (and the claims writable) for it.
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001}

#: requests/limits per principal kind (workers by name where they differ).
RESOURCES: dict[str, dict[str, dict[str, str]]] = {
    "chorus-identity": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    "chorus-gatekeeper": {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"memory": "1Gi"},
    },
    "chorus-aggregates": {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    },
    "connector": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "dashboard": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "sink": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "opa": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
}


def object_meta(name: str, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "chorus"},
    }
    meta.update(extra)
    return meta


def namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "chorus"}},
    }


def _probes(port: int) -> dict[str, Any]:
    exec_ = {"command": health_probe_command(port)}
    return {
        "readinessProbe": {"exec": exec_, "periodSeconds": 10, "timeoutSeconds": 6},
        "livenessProbe": {
            "exec": exec_,
            "initialDelaySeconds": 60,
            "periodSeconds": 20,
            "timeoutSeconds": 6,
            "failureThreshold": 3,
        },
    }


def _kafka_env(principal: str) -> list[dict[str, Any]]:
    return [
        {"name": "CHORUS_MODE", "value": "production"},
        {"name": "CHORUS_HOME", "value": STATE_DIR},
        {"name": "CHORUS_KAFKA_BOOTSTRAP", "value": strimzi.BOOTSTRAP},
        {"name": "CHORUS_KAFKA_SECURITY_PROTOCOL", "value": "SASL_SSL"},
        {"name": "CHORUS_KAFKA_SASL_MECHANISM", "value": "SCRAM-SHA-512"},
        {"name": "CHORUS_KAFKA_USERNAME", "value": principal},
        {"name": "CHORUS_KAFKA_PASSWORD_FILE", "value": f"{SECRETS_DIR}/kafka/password"},
        {"name": "CHORUS_KAFKA_CA_FILE", "value": f"{SECRETS_DIR}/kafka-ca/ca.crt"},
    ]


def _from_secret(variable: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def secret_volume(name: str, secret: str, items: list[tuple[str, str]] | None = None) -> dict:
    # owner and group (the pod's fsGroup) may read; nobody else
    spec: dict[str, Any] = {"secretName": secret, "defaultMode": 0o440}
    if items:
        spec["items"] = [{"key": k, "path": p} for k, p in items]
    return {"name": name, "secret": spec}


def deployment(process: Process) -> list[dict[str, Any]]:
    """The Deployment of one process (and the ConfigMap of a connector)."""
    p = process.principal
    env = _kafka_env(p.name)
    volumes: list[dict[str, Any]] = [
        secret_volume("kafka-password", strimzi.resource_name(p.name), [("password", "password")]),
        secret_volume("kafka-ca", strimzi.CA_SECRET, [("ca.crt", "ca.crt")]),
        {"name": "state", "emptyDir": {}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "kafka-password", "mountPath": f"{SECRETS_DIR}/kafka", "readOnly": True},
        {"name": "kafka-ca", "mountPath": f"{SECRETS_DIR}/kafka-ca", "readOnly": True},
        {"name": "state", "mountPath": STATE_DIR},
    ]
    extra: list[dict[str, Any]] = []
    if process.needs_opa:
        env.append({"name": "CHORUS_OPA_URL", "value": f"http://opa:{OPA_PORT}"})
    if process.needs_pseudonym_key:
        env.append({"name": "CHORUS_PSEUDONYM_KEY_FILE", "value": f"{SECRETS_DIR}/pseudonym/key"})
        volumes.append(secret_volume("pseudonym-key", PSEUDONYM_KEY_SECRET, [("key", "key")]))
        mounts.append(
            {"name": "pseudonym-key", "mountPath": f"{SECRETS_DIR}/pseudonym", "readOnly": True}
        )
    if process.connector_kind:
        kind = process.connector_kind
        config_map = f"{p.name}-config"
        extra.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": object_meta(config_map),
                "data": {f"{kind}.connector.yaml": connector_config(kind, strimzi.BOOTSTRAP)},
            }
        )
        volumes.append({"name": "config", "configMap": {"name": config_map}})
        mounts.append({"name": "config", "mountPath": "/etc/chorus", "readOnly": True})
        volumes.append(
            {"name": "position", "persistentVolumeClaim": {"claimName": f"{p.name}-position"}}
        )
        mounts.append({"name": "position", "mountPath": f"{STATE_DIR}/connectors"})
        extra.append(_claim(f"{p.name}-position", "1Gi"))
        inbox = connector_settings(kind, strimzi.BOOTSTRAP).get("inbox")
        if inbox:  # a drop folder: the LA's file transfer writes into this claim
            volumes.append(
                {"name": "inbox", "persistentVolumeClaim": {"claimName": f"{p.name}-inbox"}}
            )
            mounts.append({"name": "inbox", "mountPath": inbox})
            extra.append(_claim(f"{p.name}-inbox", "20Gi"))
        secret = connector_secret(kind)
        if secret and secret.files:
            items = [(key, key) for key in secret.files]
            volumes.append(secret_volume("source-credentials", secret.name, items))
            mounts.append(
                {"name": "source-credentials", "mountPath": secret.mount, "readOnly": True}
            )
        if secret:
            env += [_from_secret(var, secret.name, key) for var, key in secret.env.items()]
    if p.kind == "sink":
        env.append(_from_secret("PGPASSWORD", DB_SECRET, "password"))
    container: dict[str, Any] = {
        "name": "chorus",
        "image": CHORUS_IMAGE,
        "args": list(process.command),
        "env": env,
        "resources": RESOURCES.get(p.name) or RESOURCES[p.kind],
        "volumeMounts": mounts,
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    if process.health_port:
        container["ports"] = [{"name": "http", "containerPort": process.health_port}]
        container.update(_probes(process.health_port))
    single = not process.scalable
    spec: dict[str, Any] = {
        "replicas": process.replicas,
        "selector": {"matchLabels": {"app.kubernetes.io/name": p.name}},
        "template": {
            "metadata": {
                "labels": {"app.kubernetes.io/name": p.name, "app.kubernetes.io/part-of": "chorus"}
            },
            "spec": {
                "securityContext": POD_SECURITY,
                "containers": [container],
                "volumes": volumes,
            },
        },
    }
    if single:
        spec["strategy"] = {"type": "Recreate"}  # never two at once (identity, positions)
    annotations = {"chorus/principal": p.name, "chorus/scalable": str(process.scalable).lower()}
    out = extra + [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": object_meta(p.name, annotations=annotations),
            "spec": spec,
        }
    ]
    if p.kind == "dashboard":
        out.append(service(p.name, process.health_port))
    return out


def _claim(name: str, size: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_meta(name),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def service(name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(name),
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": port, "targetPort": port}],
        },
    }


def prometheus_rules(rules: dict[str, str]) -> list[dict[str, Any]]:
    """The alerting rules (deploy/monitoring/prometheus/) as a ConfigMap for Prometheus."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": object_meta("chorus-prometheus-rules"),
            "data": dict(sorted(rules.items())),
        }
    ]


def kustomization(files: list[str]) -> dict[str, Any]:
    """`kubectl apply -k deploy/k8s`; the image can be pointed at a registry here."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": ["namespace.yaml"] + [f for f in files if f != "namespace.yaml"],
        "images": [{"name": CHORUS_IMAGE.split(":")[0], "newTag": CHORUS_IMAGE.split(":")[1]}],
    }
