"""The production deployment files (deploy/compose, deploy/k8s) follow the access plan.

They are written by `chorus deploy render` from deploy/access/plan.py, the source of
`chorus access plan`; these tests fail when the committed files have drifted from it
(re-run `chorus deploy render`), when a principal, ACL or topic is missing or extra in
either deployment, or when a file lacks what Kafka, Strimzi, Kubernetes or compose need.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.common.settings import ConfigError, load_settings
from connectors.registry import settings_for
from deploy.access.plan import ADMIN, AccessPlan
from deploy.cli import main
from deploy.production import strimzi
from deploy.production.common import HEADER, HEALTH_PATH, REPO
from deploy.production.render import COMPOSE_DIR, K8S_DIR, default_plan, drift, render, write

COMPOSE = REPO / COMPOSE_DIR
K8S = REPO / K8S_DIR
CHORUS_KINDS = ("worker", "connector", "dashboard", "sink")  # principals that run in-house


@pytest.fixture(scope="module")
def plan() -> AccessPlan:
    return default_plan()


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":  # kustomize's own file, not a cluster resource
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text(encoding="utf-8"))


def _of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def _plan_acls(plan: AccessPlan) -> set[tuple[str, str, str, str, str]]:
    """(principal, resource type, name, pattern, operation); CLUSTER has no name or pattern."""
    out = set()
    for a in plan.acls:
        assert a.permission == "ALLOW"
        name, pattern = (
            ("", "") if a.resource_type == "CLUSTER" else (a.resource_name, a.pattern_type)
        )
        out.add((a.principal, a.resource_type, name, pattern, a.operation))
    return out


# -- drift ---------------------------------------------------------------------------------


def test_committed_files_are_what_render_writes_now(plan: AccessPlan, tmp_path: Path) -> None:
    files = render(plan)
    assert drift(files) == [], "deployment files are out of date: run `chorus deploy render`"
    write(files, tmp_path)
    for rel in files:
        assert (tmp_path / rel).read_bytes() == (REPO / rel).read_bytes(), rel


def test_no_stale_generated_file_is_left_behind(plan: AccessPlan) -> None:
    rendered = set(render(plan))
    generated = {
        str(path.relative_to(REPO))
        for folder in (COMPOSE, K8S)
        for path in folder.rglob("*")
        if path.is_file() and HEADER.strip() in path.read_text(encoding="utf-8", errors="ignore")
    }
    assert generated == rendered


def test_an_expired_agreement_makes_the_check_fail() -> None:
    later = render(default_plan(dt.date(2031, 1, 1)))  # every agreement has expired by then
    changed = drift(later)
    assert any("users.yaml" in d for d in changed)
    assert any("access.sh" in d for d in changed)


def test_chorus_deploy_render_check_passes_on_the_committed_files(capsys) -> None:
    assert main(["deploy", "render", "--check"], {}) == 0
    assert main(["deploy", "render", "--check", "--today", "2031-01-01"], {}) == 1
    assert "chorus deploy render" in capsys.readouterr().err


# -- Kafka resources: both deployments carry exactly the plan ------------------------------


def test_kafka_users_carry_exactly_the_plans_principals_and_acls(
    plan: AccessPlan, manifests: list[dict[str, Any]]
) -> None:
    users = _of_kind(manifests, "KafkaUser")
    assert sorted(u["metadata"]["name"] for u in users) == sorted(p.name for p in plan.principals)
    found = set()
    for user in users:
        name, spec = user["metadata"]["name"], user["spec"]
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == strimzi.CLUSTER
        assert spec["authentication"]["type"] == "scram-sha-512"
        if name == ADMIN:
            assert "authorization" not in spec  # a super user (Kafka resource superUsers)
            continue
        assert spec["authorization"]["type"] == "simple"
        for rule in spec["authorization"]["acls"]:
            resource = rule["resource"]
            assert resource["type"] in {"topic", "group", "cluster", "transactionalId"}
            if resource["type"] != "cluster":
                assert resource["name"] and resource["patternType"] in {"literal", "prefixed"}
            assert rule["operations"] and rule["type"] == "allow"
            rtype = {v: k for k, v in strimzi.RESOURCE_TYPES.items()}[resource["type"]]
            ops = {v: k for k, v in strimzi.OPERATIONS.items()}
            for op in rule["operations"]:
                found.add(
                    (
                        name,
                        rtype,
                        resource.get("name", ""),
                        resource.get("patternType", "").upper(),
                        ops[op],
                    )
                )
    assert found == _plan_acls(plan)


def test_kafka_topics_are_exactly_the_planned_topics(
    plan: AccessPlan, manifests: list[dict[str, Any]]
) -> None:
    topics = _of_kind(manifests, "KafkaTopic")
    want = {t.name: t for t in plan.topics}
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(want)
    assert len({t["metadata"]["name"] for t in topics}) == len(topics)  # no two share a name
    for t in topics:
        spec = t["spec"]
        planned = want[spec["topicName"]]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", t["metadata"]["name"])
        assert spec["partitions"] == planned.partitions
        assert isinstance(spec["replicas"], int) and spec["replicas"] >= 3
        assert isinstance(spec["config"], dict)
        for key, value in planned.kafka_config().items():
            assert str(spec["config"][key]) == value


def test_the_compose_init_script_creates_exactly_the_plans_users_topics_and_acls(
    plan: AccessPlan, compose: dict[str, Any]
) -> None:
    users, topics, acls = set(), {}, set()
    ops = {v: k for k, v in strimzi.OPERATIONS.items()}
    flags = {"--topic": "TOPIC", "--group": "GROUP", "--transactional-id": "TRANSACTIONAL_ID"}
    for line in (COMPOSE / "kafka" / "access.sh").read_text(encoding="utf-8").splitlines():
        words = shlex.split(line) if re.match(r"(user|topic|acl) ", line) else []
        if words[:1] == ["user"]:
            users.add(words[1])
            assert words[2] in compose["services"]["kafka-init"]["secrets"]
        elif words[:1] == ["topic"]:
            configs = dict(w.split("=", 1) for w in words[3:] if w != "--config")
            topics[words[1]] = (int(words[2]), configs)
        elif words[:1] == ["acl"]:
            for op in words[2].split(","):
                if words[3] == "--cluster":
                    acls.add((words[1], "CLUSTER", "", "", ops[op]))
                else:
                    assert words[5] == "--resource-pattern-type"
                    acls.add((words[1], flags[words[3]], words[4], words[6].upper(), ops[op]))
    assert users == {p.name for p in plan.principals} - {ADMIN}
    start = (COMPOSE / "kafka" / "start.sh").read_text(encoding="utf-8")
    assert f'--add-scram "SCRAM-SHA-512=[name={ADMIN},' in start  # admin: made at format
    assert topics == {t.name: (t.partitions, t.kafka_config()) for t in plan.topics}
    assert acls == _plan_acls(plan)


def test_kafka_is_kraft_with_scram_and_no_anonymous_access(
    manifests: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    (kafka,) = _of_kind(manifests, "Kafka")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert _of_kind(manifests, "KafkaNodePool")[0]["spec"]["roles"] == ["controller", "broker"]
    assert all(
        listener["authentication"]["type"] == "scram-sha-512" and listener["tls"]
        for listener in kafka["spec"]["kafka"]["listeners"]
    )
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple", "superUsers": [ADMIN]}
    assert re.fullmatch(r"apache/kafka:3\.9\.\d+", compose["services"]["kafka"]["image"])
    start = (COMPOSE / "kafka" / "start.sh").read_text(encoding="utf-8")
    for line in (
        "process.roles=broker,controller",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
    ):
        assert line in start.splitlines()


# -- Kubernetes structure ------------------------------------------------------------------


def test_every_manifest_has_api_version_kind_and_metadata(manifests: list[dict]) -> None:
    assert manifests
    for m in manifests:
        assert m.get("apiVersion") and m.get("kind") and m["metadata"].get("name"), m
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_every_deployment_has_requests_limits_and_health_probes(manifests: list[dict]) -> None:
    deployments = _of_kind(manifests, "Deployment")
    assert deployments
    for d in deployments:
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), d["metadata"]["name"]
            assert c["resources"]["limits"]["memory"]
            for probe in ("livenessProbe", "readinessProbe"):
                assert "exec" in c[probe] or "httpGet" in c[probe], (d["metadata"]["name"], probe)


def test_each_chorus_process_runs_as_its_principal_and_probes_its_health_endpoint(
    plan: AccessPlan, manifests: list[dict]
) -> None:
    running = {p.name for p in plan.principals if p.kind in CHORUS_KINDS}
    seen = set()
    for d in _of_kind(manifests, "Deployment"):
        (c,) = d["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in c.get("env", [])}
        if "CHORUS_KAFKA_USERNAME" not in env:
            continue
        user = env["CHORUS_KAFKA_USERNAME"]["value"]
        seen.add(user)
        assert d["metadata"]["name"] == user
        port = c["ports"][0]["containerPort"]
        assert str(port) in c["args"]  # the process is told to serve on the probed port
        for probe in ("livenessProbe", "readinessProbe"):
            assert f"127.0.0.1:{port}{HEALTH_PATH}" in " ".join(c[probe]["exec"]["command"])
    assert seen == running


def test_identity_and_aggregates_run_as_one_instance_and_the_gatekeeper_scales(
    manifests: list[dict],
) -> None:
    workers = {
        d["metadata"]["name"]: d["spec"]
        for d in _of_kind(manifests, "Deployment")
        if d["metadata"].get("annotations", {}).get("chorus/principal", "").startswith("chorus-")
        and "worker" in d["spec"]["template"]["spec"]["containers"][0]["args"]
    }
    for single in ("chorus-identity", "chorus-aggregates"):
        assert workers[single]["replicas"] == 1
        assert workers[single]["strategy"] == {"type": "Recreate"}
    assert workers["chorus-gatekeeper"]["replicas"] > 1


def test_no_secret_value_is_committed(manifests: list[dict], compose: dict[str, Any]) -> None:
    assert not _of_kind(manifests, "Secret")
    for d in _of_kind(manifests, "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                if re.search("PASSWORD|KEY|SECRET|TOKEN", e["name"]) and "valueFrom" not in e:
                    assert e["name"].endswith("_FILE") and e["value"].startswith("/run/secrets/")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|KEY|SECRET|TOKEN", key):
                assert key.endswith(("_FILE", "__FILE")), (name, key)
                assert value.startswith("/run/secrets/"), (name, key)
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (COMPOSE / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignored


# -- compose structure ---------------------------------------------------------------------


def test_compose_runs_every_process_with_a_health_check(
    plan: AccessPlan, compose: dict[str, Any]
) -> None:
    services = compose["services"]
    running = {p.name for p in plan.principals if p.kind in CHORUS_KINDS}
    as_user = {
        n: s["environment"]["CHORUS_KAFKA_USERNAME"]
        for n, s in services.items()
        if "CHORUS_KAFKA_USERNAME" in s.get("environment", {})
    }
    assert {u for n, u in as_user.items() if n not in ("kafka-access",)} == running
    for name in running:
        service = services[name]
        assert as_user[name] == name
        assert service["secrets"][0] == f"{name}.password"
        test = " ".join(service["healthcheck"]["test"])
        assert HEALTH_PATH in test and test.split(":")[-1].split("/")[0] in service["command"]
    assert "deploy" not in services["chorus-identity"]  # one instance only
    for name in ("kafka", "kafka-init", "kafka-access", "opa", "prometheus", "grafana"):
        assert name in services
    for ref in {s for svc in services.values() for s in svc.get("secrets", [])}:
        assert ref in compose["secrets"], ref


def test_opa_loads_a_signed_bundle(compose: dict[str, Any], manifests: list[dict]) -> None:
    opa = compose["services"]["opa"]
    assert re.fullmatch(r"openpolicyagent/opa:1\.\d+\.\d+", opa["image"])
    assert opa["command"][:2] == ["run", "--server"]
    assert any(a.startswith("--verification-key=/run/secrets/") for a in opa["command"])
    config_map = next(
        m for m in _of_kind(manifests, "ConfigMap") if m["metadata"]["name"] == "opa-config"
    )
    config = yaml.safe_load(config_map["data"]["opa-config.yaml"])
    assert config["bundles"]["chorus"]["signing"]["keyid"] in config["keys"]


def test_prometheus_scrapes_every_process_and_loads_the_alerting_rules(
    manifests: list[dict],
) -> None:
    prometheus = yaml.safe_load((COMPOSE / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {j["job_name"] for j in prometheus["scrape_configs"]}
    assert {"chorus-worker", "chorus-connector", "chorus-dashboard", "opa"} <= jobs
    assert {"chorus-ledger-sink", "chorus-agg-sink"} <= jobs
    assert prometheus["rule_files"]  # the alerting rules are loaded
    rules_dir = REPO / "deploy/monitoring/prometheus"
    (rules,) = [m for m in manifests if m["metadata"]["name"] == "chorus-prometheus-rules"]
    for name, text in rules["data"].items():
        assert text == (rules_dir / name).read_text(encoding="utf-8")
    for rule in prometheus["rule_files"]:
        assert (REPO / "deploy/monitoring/prometheus" / Path(rule).name).is_file()


def test_connector_files_are_valid_connector_configurations(manifests: list[dict]) -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in (COMPOSE / "connectors").glob("*")}
    for m in _of_kind(manifests, "ConfigMap"):
        texts.update({f"k8s {k}": v for k, v in m["data"].items() if k.endswith(".connector.yaml")})
    assert len(texts) == 6
    for name, text in texts.items():
        raw = yaml.safe_load(text)
        try:
            load_settings(settings_for(raw["connector"]), raw, name)
        except ConfigError as err:  # pragma: no cover - the message says which setting
            pytest.fail(f"{name}: {err.problems}")
        assert not re.search(r"://[^/@]*:[^/@]*@", text), "a password in a URL"
