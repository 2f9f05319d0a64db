"""The docker compose deployment: one host, one Kafka broker (KRaft, SASL_SSL with SCRAM,
ACLs enforced), OPA on a signed bundle, the Chorus processes, Prometheus and Grafana.

Secrets are compose ``secrets:`` read from files under ``deploy/compose/secrets/`` (never
committed; deploy/compose/README.md lists them) or ``env_file``; no value is inline.
"""

from __future__ import annotations

from typing import Any

from deploy.access.plan import ADMIN, AccessPlan
from deploy.production.common import (
    CHORUS_IMAGE,
    DASHBOARD_PORT,
    GRAFANA_DASHBOARD,
    GRAFANA_IMAGE,
    KAFKA_IMAGE,
    MONITORING,
    OPA_IMAGE,
    OPA_PORT,
    PROMETHEUS_IMAGE,
    SECRETS_DIR,
    STATE_DIR,
    Process,
    health_probe_command,
)
from deploy.production.connector_configs import connector_secret

BOOTSTRAP = "kafka:9093"
CA_SECRET = "kafka_ca"
PSEUDONYM_SECRET = "chorus_pseudonym_key"
OPA_KEY_SECRET = "opa_verification_key"
DB_ENV_FILE = "secrets/db.env"  # PGPASSWORD=... for the sinks (and POSTGRES_PASSWORD for db)

__all__ = ["BOOTSTRAP", "compose_file", "user_secret"]


def user_secret(principal: str) -> str:
    """The compose secret holding a Kafka user's password, mounted as /run/secrets/<name>.password
    (the layout `chorus access apply --passwords-dir` reads)."""
    return f"{principal}.password"


def _healthcheck(port: int) -> dict[str, Any]:
    return {
        "test": ["CMD", *health_probe_command(port)],
        "interval": "15s",
        "timeout": "6s",
        "retries": 5,
        "start_period": "60s",
    }


def _chorus_service(process: Process) -> dict[str, Any]:
    p = process.principal
    env: dict[str, str] = {
        "CHORUS_MODE": "production",
        "CHORUS_HOME": STATE_DIR,
        "CHORUS_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "CHORUS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "CHORUS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CHORUS_KAFKA_USERNAME": p.name,
        "CHORUS_KAFKA_PASSWORD_FILE": f"{SECRETS_DIR}/{user_secret(p.name)}",
        "CHORUS_KAFKA_CA_FILE": f"{SECRETS_DIR}/{CA_SECRET}",
    }
    secrets = [user_secret(p.name), CA_SECRET]
    volumes = [f"{p.name}-state:{STATE_DIR}"]
    depends: dict[str, Any] = {"kafka-access": {"condition": "service_completed_successfully"}}
    service: dict[str, Any] = {
        "image": CHORUS_IMAGE,
        "build": {"context": "../..", "dockerfile": "deploy/production/Dockerfile"},
        "command": list(process.command),
    }
    if process.needs_opa:
        env["CHORUS_OPA_URL"] = f"http://opa:{OPA_PORT}"
        depends["opa"] = {"condition": "service_started"}
    if process.needs_pseudonym_key:
        env["CHORUS_PSEUDONYM_KEY_FILE"] = f"{SECRETS_DIR}/{PSEUDONYM_SECRET}"
        secrets.append(PSEUDONYM_SECRET)
    if process.connector_kind:
        kind = process.connector_kind
        volumes.append(f"./connectors/{kind}.connector.yaml:/etc/chorus/{kind}.connector.yaml:ro")
        if kind == "education_files":
            volumes.append("./inbox/education:/srv/chorus/education")
        secret = connector_secret(kind)
        if secret:
            for key in secret.files:
                volumes.append(f"./secrets/{secret.name}/{key}:{secret.mount}/{key}:ro")
            if secret.env:
                service["env_file"] = [f"secrets/{secret.name}.env"]
    if p.kind == "sink":
        service["env_file"] = [DB_ENV_FILE]
        depends["db"] = {"condition": "service_healthy"}
    if p.kind == "dashboard":
        service["ports"] = [f"127.0.0.1:{DASHBOARD_PORT}:{DASHBOARD_PORT}"]
    service.update(
        {
            "environment": env,
            "secrets": secrets,
            "volumes": volumes,
            "depends_on": depends,
            "restart": "unless-stopped",
        }
    )
    if process.health_port:
        service["healthcheck"] = _healthcheck(process.health_port)
    if process.scalable:
        service["deploy"] = {"replicas": process.replicas}
    return service


def _kafka() -> dict[str, Any]:
    return {
        "image": KAFKA_IMAGE,
        "hostname": "kafka",
        "command": ["/bin/bash", "/etc/kafka/chorus/start.sh"],
        "environment": {"CLUSTER_ID_FILE": "/var/lib/kafka/data/cluster.id"},
        "volumes": ["./kafka:/etc/kafka/chorus:ro", "kafka-data:/var/lib/kafka/data"],
        "secrets": [user_secret(ADMIN), "kafka_keystore", "kafka_keystore_password", CA_SECRET],
        "healthcheck": {
            "test": ["CMD", "/bin/bash", "/etc/kafka/chorus/healthcheck.sh"],
            "interval": "10s",
            "timeout": "10s",
            "retries": 12,
            "start_period": "30s",
        },
        "restart": "unless-stopped",
    }


def _kafka_init(plan: AccessPlan) -> dict[str, Any]:
    """Users, topics and ACLs with Kafka's tools (kafka/access.sh, generated)."""
    return {
        "image": KAFKA_IMAGE,
        "command": ["/bin/bash", "/etc/kafka/chorus/access.sh"],
        "volumes": ["./kafka:/etc/kafka/chorus:ro"],
        "secrets": [CA_SECRET, *(user_secret(p.name) for p in plan.principals)],
        "depends_on": {"kafka": {"condition": "service_healthy"}},
        "restart": "no",
    }


def _kafka_access(plan: AccessPlan) -> dict[str, Any]:
    """`chorus access apply` as admin: removes ACLs the plan no longer lists (an agreement
    expired), so the cluster matches the plan exactly."""
    return {
        "image": CHORUS_IMAGE,
        "command": ["chorus", "access", "apply", "--passwords-dir", SECRETS_DIR],
        "environment": {
            "CHORUS_MODE": "production",
            "CHORUS_KAFKA_BOOTSTRAP": BOOTSTRAP,
            "CHORUS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CHORUS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "CHORUS_KAFKA_USERNAME": ADMIN,
            "CHORUS_KAFKA_PASSWORD_FILE": f"{SECRETS_DIR}/{user_secret(ADMIN)}",
            "CHORUS_KAFKA_CA_FILE": f"{SECRETS_DIR}/{CA_SECRET}",
        },
        "secrets": [CA_SECRET, *(user_secret(p.name) for p in plan.principals)],
        "depends_on": {"kafka-init": {"condition": "service_completed_successfully"}},
        "restart": "no",
    }


def _opa() -> dict[str, Any]:
    return {
        "image": OPA_IMAGE,
        "command": [
            "run",
            "--server",
            f"--addr=0.0.0.0:{OPA_PORT}",
            "--bundle",
            "/bundles/chorus.tar.gz",
            f"--verification-key={SECRETS_DIR}/{OPA_KEY_SECRET}",
            "--verification-key-id=chorus-policy",
            "--signing-alg=RS256",
            "--watch",
        ],
        "volumes": ["./bundles:/bundles:ro"],
        "secrets": [OPA_KEY_SECRET],
        "restart": "unless-stopped",
    }


def _monitoring() -> dict[str, dict[str, Any]]:
    return {
        "prometheus": {
            "image": PROMETHEUS_IMAGE,
            "command": ["--config.file=/etc/prometheus/prometheus.yml"],
            "volumes": [
                "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                f"../../{MONITORING}/prometheus:/etc/prometheus/chorus:ro",
                "prometheus-data:/prometheus",
            ],
            "ports": ["127.0.0.1:9090:9090"],
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": GRAFANA_IMAGE,
            "environment": {
                "GF_SECURITY_ADMIN_PASSWORD__FILE": f"{SECRETS_DIR}/grafana_admin_password",
                "GF_AUTH_ANONYMOUS_ENABLED": "false",
            },
            "secrets": ["grafana_admin_password"],
            "volumes": [
                "./grafana/provisioning:/etc/grafana/provisioning:ro",
                f"../../{GRAFANA_DASHBOARD}:/var/lib/grafana/dashboards/chorus.json:ro",
                "grafana-data:/var/lib/grafana",
            ],
            "ports": ["127.0.0.1:3000:3000"],
            "depends_on": ["prometheus"],
            "restart": "unless-stopped",
        },
    }


def _db() -> dict[str, Any]:
    return {
        "image": "postgres:17",
        "environment": {"POSTGRES_USER": "chorus", "POSTGRES_DB": "chorus"},
        "env_file": [DB_ENV_FILE],
        "volumes": ["db-data:/var/lib/postgresql/data"],
        "healthcheck": {
            "test": ["CMD", "pg_isready", "-U", "chorus", "-d", "chorus"],
            "interval": "10s",
            "retries": 10,
        },
        "restart": "unless-stopped",
    }


def _secrets(plan: AccessPlan) -> dict[str, dict[str, str]]:
    names = {
        "kafka_keystore": "kafka/broker.p12",
        "kafka_keystore_password": "kafka/keystore-password",
        CA_SECRET: "kafka/ca.crt",
        PSEUDONYM_SECRET: "pseudonym-key",
        OPA_KEY_SECRET: "opa/bundle-verification.pem",
        "grafana_admin_password": "grafana-admin-password",
    }
    for p in plan.principals:
        names[user_secret(p.name)] = f"kafka/users/{user_secret(p.name)}"
    return {name: {"file": f"./secrets/{path}"} for name, path in sorted(names.items())}


def compose_file(plan: AccessPlan, processes: list[Process]) -> dict[str, Any]:
    services: dict[str, Any] = {
        "kafka": _kafka(),
        "kafka-init": _kafka_init(plan),
        "kafka-access": _kafka_access(plan),
        "opa": _opa(),
        "db": _db(),
    }
    for process in processes:
        services[process.service] = _chorus_service(process)
    services.update(_monitoring())
    volumes = ["kafka-data", "db-data", "prometheus-data", "grafana-data"]
    volumes += [f"{p.service}-state" for p in processes]
    return {
        "name": "chorus",
        "services": services,
        "volumes": {v: {} for v in volumes},
        "secrets": _secrets(plan),
    }
