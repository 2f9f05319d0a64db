"""`chorus deploy render`: write the compose and Kubernetes files from the access plan.

The topics, Kafka users and ACLs in ``deploy/compose/`` and ``deploy/k8s/`` are those of
``deploy/access/plan.py`` (the source of ``chorus access plan``), which reads
``policies/data`` and the topic catalogue in ``schemas/``. ``render --check`` (and
tests/unit/test_production_files.py) fail when the committed files differ from what
would be written now, e.g. after a purpose, recipient or agreement changed, or an
agreement expired: the recipient's ACLs must then go from the deployment too.
"""

from __future__ import annotations

import datetime
import difflib
from pathlib import Path

from deploy.access.plan import POLICY_DIR, AccessPlan, access_plan
from deploy.production import compose, kubernetes, kubernetes_opa, strimzi
from deploy.production.common import (
    HEADER,
    PROMETHEUS_RULES_DIR,
    REPO,
    dump,
    dump_all,
    processes,
)
from deploy.production.connector_configs import connector_config
from deploy.production.kafka_init import access_script
from deploy.production.monitoring import (
    grafana_dashboards,
    grafana_datasources,
    prometheus_config,
    rule_files,
)

COMPOSE_DIR = "deploy/compose"
K8S_DIR = "deploy/k8s"


def render(plan: AccessPlan, repo: Path = REPO) -> dict[str, str]:
    """Every generated file: path relative to the repository -> content."""
    procs = processes(plan)
    rules = rule_files(repo / PROMETHEUS_RULES_DIR)
    files: dict[str, str] = {}

    files[f"{COMPOSE_DIR}/compose.yaml"] = HEADER + dump(compose.compose_file(plan, procs))
    files[f"{COMPOSE_DIR}/kafka/access.sh"] = access_script(plan)
    for p in procs:
        if p.connector_kind:
            path = f"{COMPOSE_DIR}/connectors/{p.connector_kind}.connector.yaml"
            files[path] = HEADER + connector_config(p.connector_kind, compose.BOOTSTRAP)
    files[f"{COMPOSE_DIR}/prometheus.yml"] = HEADER + dump(
        prometheus_config(procs, sorted(rules), "/etc/prometheus/chorus")
    )
    files[f"{COMPOSE_DIR}/grafana/provisioning/datasources/chorus.yaml"] = HEADER + dump(
        grafana_datasources()
    )
    files[f"{COMPOSE_DIR}/grafana/provisioning/dashboards/chorus.yaml"] = HEADER + dump(
        grafana_dashboards()
    )

    k8s: dict[str, str] = {
        "namespace.yaml": dump_all([kubernetes.namespace()]),
        "kafka.yaml": dump_all(
            [strimzi.node_pool(), strimzi.kafka_cluster()],
            "Kafka (Strimzi, KRaft): SCRAM-SHA-512 over TLS, simple authorization, no anonymous "
            "access.",
        ),
        "topics.yaml": dump_all(strimzi.topics(plan), "Every topic of deploy/topic_plan.py."),
        "users.yaml": dump_all(
            strimzi.users(plan),
            "Every principal of `chorus access plan`, with exactly its ACLs. Strimzi writes each\n"
            "user's SCRAM password into a Secret of the same name.",
        ),
        "opa.yaml": dump_all(kubernetes_opa.opa() + kubernetes_opa.bundle_service()),
        "workers.yaml": dump_all(
            [d for p in procs if p.principal.kind == "worker" for d in kubernetes.deployment(p)],
            "The stream workers. chorus-identity must stay at one replica; the gatekeeper and\n"
            "the aggregates scale up to the partitions of their input topics.",
        ),
        "connectors.yaml": dump_all(
            [d for p in procs if p.connector_kind for d in kubernetes.deployment(p)]
        ),
        "readers.yaml": dump_all(
            [
                d
                for p in procs
                if p.principal.kind in ("dashboard", "sink")
                for d in kubernetes.deployment(p)
            ],
            "The dashboard and the SQL sinks.",
        ),
        "monitoring.yaml": dump_all(kubernetes.prometheus_rules(rules)),
    }
    k8s["kustomization.yaml"] = HEADER + dump(kubernetes.kustomization(sorted(k8s)))
    files.update({f"{K8S_DIR}/{name}": text for name, text in k8s.items()})
    return dict(sorted(files.items()))


def default_plan(today: datetime.date | None = None) -> AccessPlan:
    """The plan the committed files follow: no topic prefix, agreements in force today."""
    return access_plan(POLICY_DIR, "", today)


def write(files: dict[str, str], root: Path = REPO) -> list[str]:
    """Write the files that changed; returns their paths."""
    changed = []
    for rel, text in files.items():
        path = root / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if rel.endswith(".sh"):
            path.chmod(0o755)
        changed.append(rel)
    return changed


def drift(files: dict[str, str], root: Path = REPO) -> list[str]:
    """A unified diff line set per file that differs from what is committed (empty: none)."""
    out: list[str] = []
    for rel, text in files.items():
        path = root / rel
        if not path.exists():
            out.append(f"{rel}: missing")
            continue
        committed = path.read_text(encoding="utf-8")
        if committed != text:
            diff = difflib.unified_diff(
                committed.splitlines(), text.splitlines(), f"{rel} (committed)", f"{rel} (now)", n=1
            )
            out.append("\n".join(list(diff)[:40]))
    return out
