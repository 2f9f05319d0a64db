"""The access plan: every Kafka principal Chorus uses and the ACLs that follow from policy data.

Pure: it reads ``policies/data/`` and the topic catalogue, never Kafka. ``chorus access
plan`` prints it, ``chorus access apply`` makes a cluster match it, and the production
deployment files are checked against it.

The rules (issue 8):

- a connector writes only the source topics of its domains
  (``chorus.source.<domain>.``) and the connector dead-letter topic;
- the identity worker reads the source topics and writes ``chorus.linked``,
  ``chorus.quality`` and its dead-letter topic;
- only the gatekeeper reads ``chorus.linked`` (and the source topics), writes the share
  topics, the ledger and its dead-letter topic;
- the aggregates read ``chorus.share.strategic_reporting.`` and the ledger, and write
  ``chorus.agg.`` and their dead-letter topic;
- a recipient reads only ``chorus.share.<purpose>.`` for each purpose it subscribes to
  (recipients.yaml) AND an agreement in force on ``today`` covers it for
  (agreements.yaml: ``valid_from <= today <= expires``), with consumer groups under its
  own prefix ``recipient-<name>.``;
- dashboards read only ``chorus.agg.``; the sinks read the ledger or the aggregate topics
  in their own consumer groups.

Conventions: a worker principal runs ``chorus worker --roles <role> --app-id <principal>``,
so its faust app id (consumer group, changelog and internal topics, all named
``<app id>...``) is its principal name: ``chorus-identity``, ``chorus-gatekeeper``,
``chorus-aggregates`` (after the topic prefix). The all-in-one development worker
(app id ``chorus-streams``) is for the unsecured stack. Kafka user names for recipients
are ``recipient-`` plus the recipient key with dashes (``la_performance_team`` ->
``recipient-la-performance-team``). ``admin`` is the cluster's super user and has no ACLs.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.topic_plan import planned_topics
from schemas import topics as catalogue
from schemas.topics import TopicSpec

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies" / "data"

CLUSTER = "kafka-cluster"  # the one name of the CLUSTER resource
ADMIN = "admin"

#: connector kind (connectors/registry.py KINDS) -> the source domains it publishes.
CONNECTOR_DOMAINS: dict[str, tuple[str, ...]] = {
    "case_management": ("case_management", "consent", "voice"),
    "education_files": ("education",),
    "health_fhir": ("health",),
}

IDENTITY = "chorus-identity"
GATEKEEPER = "chorus-gatekeeper"
AGGREGATES = "chorus-aggregates"
DASHBOARD = "chorus-dashboard"
LEDGER_SINK = "chorus-ledger-sink"
AGG_SINK = "chorus-agg-sink"

#: worker principal -> the `chorus worker --roles` value it runs (its app id is its name).
WORKER_ROLES: dict[str, str] = {
    IDENTITY: "identity",
    GATEKEEPER: "gatekeeper",
    AGGREGATES: "aggregates",
}

STRATEGIC_REPORTING = "strategic_reporting"


@dataclass(frozen=True)
class Principal:
    name: str  # the Kafka (SCRAM) user name
    kind: str  # connector | worker | dashboard | sink | recipient | admin
    description: str


@dataclass(frozen=True, order=True)
class Acl:
    principal: str
    resource_type: str  # TOPIC | GROUP | CLUSTER | TRANSACTIONAL_ID
    resource_name: str
    pattern_type: str  # LITERAL | PREFIXED
    operation: str  # READ | WRITE | DESCRIBE | CREATE | ALL | IDEMPOTENT_WRITE ...
    permission: str = "ALLOW"

    def line(self) -> str:
        """One line for people: `User:x ALLOW READ TOPIC PREFIXED chorus.share.p.`."""
        return (
            f"User:{self.principal} {self.permission} {self.operation} "
            f"{self.resource_type} {self.pattern_type} {self.resource_name}"
        )


@dataclass(frozen=True)
class AccessPlan:
    principals: tuple[Principal, ...]
    acls: tuple[Acl, ...]
    topics: tuple[TopicSpec, ...]

    def for_principal(self, name: str) -> tuple[Acl, ...]:
        return tuple(a for a in self.acls if a.principal == name)

    def principal(self, name: str) -> Principal:
        for p in self.principals:
            if p.name == name:
                return p
        raise KeyError(name)


def connector_principal(kind: str) -> str:
    return "chorus-connector-" + kind.replace("_", "-")


def recipient_principal(recipient: str) -> str:
    return "recipient-" + recipient.replace("_", "-")


def recipient_group_prefix(recipient: str, prefix: str = "") -> str:
    """The consumer groups a recipient may use all start with this."""
    return f"{prefix}{recipient_principal(recipient)}."


def worker_app_id(principal: str, prefix: str = "") -> str:
    return f"{prefix}{principal}"


# -- policy data ---------------------------------------------------------------------------


def _load(policy_dir: Path, name: str) -> dict[str, Any]:
    doc = yaml.safe_load((policy_dir / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    return doc.get(name) or {}


def _in_force(agreement: Mapping[str, Any], today: datetime.date) -> bool:
    start = datetime.date.fromisoformat(str(agreement["valid_from"]))
    end = datetime.date.fromisoformat(str(agreement["expires"]))
    return start <= today <= end


def recipient_purposes(policy_dir: Path, today: datetime.date) -> dict[str, tuple[str, ...]]:
    """recipient -> purposes it subscribes to and an agreement in force covers, sorted."""
    recipients = _load(policy_dir, "recipients")
    agreements = _load(policy_dir, "agreements")
    covered: set[tuple[str, str]] = set()
    for agreement in agreements.values():
        if _in_force(agreement, today):
            covered.update(
                (party, purpose)
                for party in agreement.get("parties") or ()
                for purpose in agreement.get("purposes") or ()
            )
    return {
        name: tuple(sorted(p for p in spec.get("subscriptions") or () if (name, p) in covered))
        for name, spec in sorted(recipients.items())
    }


# -- ACL builders --------------------------------------------------------------------------


def _topic(principal: str, name: str, ops: Iterable[str], pattern: str = "LITERAL") -> list[Acl]:
    return [Acl(principal, "TOPIC", name, pattern, op) for op in ops]


def _reads(principal: str, name: str, pattern: str = "LITERAL") -> list[Acl]:
    return _topic(principal, name, ("READ", "DESCRIBE"), pattern)


def _writes(principal: str, name: str, pattern: str = "LITERAL") -> list[Acl]:
    return _topic(principal, name, ("WRITE", "DESCRIBE"), pattern)


def _group(principal: str, name: str, pattern: str = "LITERAL") -> list[Acl]:
    return [Acl(principal, "GROUP", name, pattern, op) for op in ("READ", "DESCRIBE")]


def _producer(principal: str) -> list[Acl]:
    return [Acl(principal, "CLUSTER", CLUSTER, "LITERAL", "IDEMPOTENT_WRITE")]


def _source_prefix(prefix: str, domain: str = "") -> str:
    return f"{prefix}chorus.source.{domain + '.' if domain else ''}"


def _share_prefix(prefix: str, purpose: str = "") -> str:
    return f"{prefix}chorus.share.{purpose + '.' if purpose else ''}"


def _agg_prefix(prefix: str) -> str:
    return f"{prefix}chorus.agg."


def _faust_app(principal: str, prefix: str) -> list[Acl]:
    """A faust app's own consumer group, changelog and internal topics (all `<app id>...`)."""
    app_id = worker_app_id(principal, prefix)
    return [
        Acl(principal, "TOPIC", app_id, "PREFIXED", "ALL"),
        Acl(principal, "GROUP", app_id, "PREFIXED", "ALL"),
    ]


def _connector(kind: str, prefix: str) -> tuple[Principal, list[Acl]]:
    name = connector_principal(kind)
    domains = CONNECTOR_DOMAINS[kind]
    acls = _producer(name) + _writes(name, catalogue.dlq_topic("connector", prefix))
    for domain in domains:
        acls += _writes(name, _source_prefix(prefix, domain), "PREFIXED")
    what = f"the {kind} connector: writes the {', '.join(domains)} source topics"
    return Principal(name, "connector", what), acls


def _workers(prefix: str) -> list[tuple[Principal, list[Acl]]]:
    identity = (
        _reads(IDENTITY, _source_prefix(prefix), "PREFIXED")
        + _writes(IDENTITY, catalogue.linked_topic(prefix))
        + _writes(IDENTITY, catalogue.quality_topic(prefix))
        + _writes(IDENTITY, catalogue.dlq_topic("identity", prefix))
    )
    gatekeeper = (
        _reads(GATEKEEPER, _source_prefix(prefix), "PREFIXED")
        + _reads(GATEKEEPER, catalogue.linked_topic(prefix))
        + _writes(GATEKEEPER, _share_prefix(prefix), "PREFIXED")
        + _writes(GATEKEEPER, catalogue.ledger_topic(prefix))
        + _writes(GATEKEEPER, catalogue.dlq_topic("gatekeeper", prefix))
    )
    aggregates = (
        _reads(AGGREGATES, _share_prefix(prefix, STRATEGIC_REPORTING), "PREFIXED")
        + _reads(AGGREGATES, catalogue.ledger_topic(prefix))
        + _writes(AGGREGATES, _agg_prefix(prefix), "PREFIXED")
        + _writes(AGGREGATES, catalogue.dlq_topic("aggregate", prefix))
    )
    described = {
        IDENTITY: "identity linkage: reads source topics, writes chorus.linked and chorus.quality",
        GATEKEEPER: "the gatekeeper: reads source and linked events, writes share topics "
        "and the ledger",
        AGGREGATES: "live aggregates: read strategic reporting shares, write chorus.agg.*",
    }
    out = []
    for name, acls in ((IDENTITY, identity), (GATEKEEPER, gatekeeper), (AGGREGATES, aggregates)):
        text = f"{described[name]} (chorus worker --roles {WORKER_ROLES[name]} --app-id {name})"
        out.append(
            (Principal(name, "worker", text), acls + _producer(name) + _faust_app(name, prefix))
        )
    return out


def _readers(prefix: str) -> list[tuple[Principal, list[Acl]]]:
    agg = _agg_prefix(prefix)
    return [
        (
            Principal(DASHBOARD, "dashboard", "dashboards: read chorus.agg.* only"),
            _reads(DASHBOARD, agg, "PREFIXED")
            + _group(DASHBOARD, f"{prefix}{DASHBOARD}", "PREFIXED"),
        ),
        (
            Principal(LEDGER_SINK, "sink", "chorus ledger sink: copies chorus.ledger into SQL"),
            _reads(LEDGER_SINK, catalogue.ledger_topic(prefix))
            + _group(LEDGER_SINK, f"{prefix}{LEDGER_SINK}"),
        ),
        (
            Principal(AGG_SINK, "sink", "chorus agg sink: copies chorus.agg.* into SQL"),
            _reads(AGG_SINK, agg, "PREFIXED") + _group(AGG_SINK, f"{prefix}{AGG_SINK}", "PREFIXED"),
        ),
    ]


def _recipient(name: str, purposes: tuple[str, ...], prefix: str) -> tuple[Principal, list[Acl]]:
    principal = recipient_principal(name)
    acls: list[Acl] = []
    for purpose in purposes:
        acls += _reads(principal, _share_prefix(prefix, purpose), "PREFIXED")
    if purposes:
        acls += _group(principal, recipient_group_prefix(name, prefix), "PREFIXED")
    reads = ", ".join(purposes) or "nothing (no agreement in force)"
    text = f"recipient {name}: reads the share topics of {reads}"
    return Principal(principal, "recipient", text), acls


def access_plan(
    policy_dir: Path = POLICY_DIR, prefix: str = "", today: datetime.date | None = None
) -> AccessPlan:
    """The principals and ACLs that follow from the policy data on ``today``; deterministic."""
    today = today or datetime.date.today()
    entries = [_connector(kind, prefix) for kind in sorted(CONNECTOR_DOMAINS)]
    entries += _workers(prefix) + _readers(prefix)
    entries += [
        _recipient(name, purposes, prefix)
        for name, purposes in recipient_purposes(policy_dir, today).items()
    ]
    admin = Principal(ADMIN, "admin", "the cluster's super user: topics, users and ACLs")
    principals = tuple(sorted([admin] + [p for p, _ in entries], key=lambda p: p.name))
    acls = tuple(sorted({a for _, group in entries for a in group}))
    topics = tuple(planned_topics(prefix, policy_dir / "purposes.yaml"))
    return AccessPlan(principals=principals, acls=acls, topics=topics)
