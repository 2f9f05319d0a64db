"""The access plan: principals and ACLs derived from policies/data (no Kafka)."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import yaml

from connectors.registry import KINDS
from deploy.access.apply import diff
from deploy.access.plan import (
    AGGREGATES,
    CONNECTOR_DOMAINS,
    DASHBOARD,
    GATEKEEPER,
    IDENTITY,
    POLICY_DIR,
    Acl,
    access_plan,
    connector_principal,
    recipient_principal,
    recipient_purposes,
)
from schemas.topics import SOURCE_EVENTS

DAY = datetime.date(2026, 6, 1)
PREFIX = "t1."


def _topic_acls(acls, op):
    return {
        (a.resource_name, a.pattern_type)
        for a in acls
        if a.resource_type == "TOPIC" and a.operation == op
    }


def _matches(acl_names, topic: str) -> bool:
    return any(
        topic == name if pattern == "LITERAL" else topic.startswith(name)
        for name, pattern in acl_names
    )


def test_every_connector_kind_has_domains_and_writes_only_its_source_topics() -> None:
    assert set(CONNECTOR_DOMAINS) == set(KINDS)
    assert {d for domains in CONNECTOR_DOMAINS.values() for d in domains} == {
        d for d, _ in SOURCE_EVENTS
    }
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    for kind, domains in CONNECTOR_DOMAINS.items():
        acls = plan.for_principal(connector_principal(kind))
        writes = _topic_acls(acls, "WRITE")
        assert not _topic_acls(acls, "READ")
        for domain, event in SOURCE_EVENTS:
            topic = f"{PREFIX}chorus.source.{domain}.{event}"
            assert _matches(writes, topic) == (domain in domains), (kind, topic)
        assert _matches(writes, f"{PREFIX}chorus.dlq.connector")
        assert not _matches(writes, f"{PREFIX}chorus.ledger")
        assert not any(a.resource_type == "GROUP" for a in acls)


def test_only_the_gatekeeper_writes_share_topics_and_the_ledger() -> None:
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    share = [t.name for t in plan.topics if ".chorus.share." in f".{t.name}"]
    assert share
    for p in plan.principals:
        writes = _topic_acls(plan.for_principal(p.name), "WRITE")
        assert _matches(writes, f"{PREFIX}chorus.ledger") == (p.name == GATEKEEPER), p.name
        for topic in share:
            assert _matches(writes, topic) == (p.name == GATEKEEPER), (p.name, topic)


def test_source_topics_are_read_only_by_identity_and_the_gatekeeper() -> None:
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    topic = f"{PREFIX}chorus.source.health.development_review_completed"
    readers = {
        p.name
        for p in plan.principals
        if _matches(_topic_acls(plan.for_principal(p.name), "READ"), topic)
    }
    assert readers == {IDENTITY, GATEKEEPER}
    linked = f"{PREFIX}chorus.linked"
    readers = {
        p.name
        for p in plan.principals
        if _matches(_topic_acls(plan.for_principal(p.name), "READ"), linked)
    }
    assert readers == {GATEKEEPER}


def test_dashboards_read_only_aggregates_and_aggregates_read_only_strategic_reporting() -> None:
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    dashboard = plan.for_principal(DASHBOARD)
    assert _topic_acls(dashboard, "READ") == {(f"{PREFIX}chorus.agg.", "PREFIXED")}
    assert not _topic_acls(dashboard, "WRITE")
    reads = _topic_acls(plan.for_principal(AGGREGATES), "READ")
    assert _matches(reads, f"{PREFIX}chorus.share.strategic_reporting.referral")
    assert not _matches(reads, f"{PREFIX}chorus.share.research.referral")


def test_a_recipient_reads_only_its_purposes_share_topics_in_its_own_groups() -> None:
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    in_force = recipient_purposes(POLICY_DIR, DAY)
    assert in_force["la_performance_team"] == ("strategic_reporting",)  # research has expired
    for recipient, purposes in in_force.items():
        acls = plan.for_principal(recipient_principal(recipient))
        assert _topic_acls(acls, "READ") == {
            (f"{PREFIX}chorus.share.{p}.", "PREFIXED") for p in purposes
        }
        assert not _topic_acls(acls, "WRITE")
        groups = {(a.resource_name, a.pattern_type) for a in acls if a.resource_type == "GROUP"}
        assert groups == {(f"{PREFIX}{recipient_principal(recipient)}.", "PREFIXED")}


def _policy_copy(tmp_path: Path, agreement: str, **changes: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(POLICY_DIR, folder)
    path = folder / "agreements.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["agreements"][agreement].update(changes)
    path.write_text(yaml.safe_dump(doc))
    return folder


def test_an_expired_agreement_removes_its_recipients_reads(tmp_path: Path) -> None:
    expired = _policy_copy(tmp_path, "isa_strategic_reporting", expires="2026-05-31")
    before = access_plan(POLICY_DIR, PREFIX, DAY)
    after = access_plan(expired, PREFIX, DAY)
    name = recipient_principal("la_performance_team")
    assert before.for_principal(name)
    assert after.for_principal(name) == ()
    changes = diff(after, before.acls, PREFIX)
    assert set(changes.removed) == set(before.for_principal(name))
    assert not changes.added
    # the same on the day after the real expiry, without changing the data
    assert access_plan(POLICY_DIR, PREFIX, datetime.date(2028, 1, 1)).for_principal(name) == ()


def test_an_agreement_not_yet_in_force_gives_nothing(tmp_path: Path) -> None:
    future = _policy_copy(tmp_path, "isa_early_help_hub", valid_from="2026-06-02")
    name = recipient_principal("early_help_hub")
    assert access_plan(future, PREFIX, DAY).for_principal(name) == ()
    assert access_plan(future, PREFIX, datetime.date(2026, 6, 2)).for_principal(name)


def test_the_plan_is_deterministic_and_sorted() -> None:
    first = access_plan(POLICY_DIR, PREFIX, DAY)
    second = access_plan(POLICY_DIR, PREFIX, DAY)
    assert first == second
    assert list(first.acls) == sorted(first.acls)
    assert len(set(first.acls)) == len(first.acls)
    assert [p.name for p in first.principals] == sorted(p.name for p in first.principals)
    assert all(a.principal in {p.name for p in first.principals} for a in first.acls)


def test_applying_the_plan_to_itself_changes_nothing_and_other_prefixes_are_left_alone() -> None:
    plan = access_plan(POLICY_DIR, PREFIX, DAY)
    other = Acl(recipient_principal("dfe"), "TOPIC", "t2.chorus.share.x.", "PREFIXED", "READ")
    foreign = Acl("someone-else", "TOPIC", f"{PREFIX}chorus.ledger", "LITERAL", "READ")
    changes = diff(plan, [*plan.acls, other, foreign], PREFIX)
    assert not changes.changed
    assert len(changes.unchanged) == len(plan.acls)
