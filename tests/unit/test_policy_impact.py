"""Comparing two policies' decisions, and how a push maps a bundle onto what OPA holds."""

from __future__ import annotations

import datetime as dt

import pytest

from deploy.commands import policy_push
from deploy.commands.policy_impact import ChangeKey, Impact, as_json, compare, report
from deploy.local.processes import StackError
from streams.policy_client import Decision, content_digest


def decision(allow=True, transforms=None, obligations=()):
    return Decision(
        allow=allow,
        reasons=("r",),
        transforms=dict(transforms or {}),
        lawful_basis="basis",
        obligations=frozenset(obligations),
        agreement=None,
        revision="rev",
    )


def kinds(changes):
    return [(c.kind, c.field, c.detail) for c in changes]


def test_allow_and_deny_changes_are_reported_alone():
    assert kinds(compare(decision(False), decision(True, {"a": "keep"}))) == [
        ("newly allowed", None, None)
    ]
    assert kinds(compare(decision(True), None)) == [("newly denied", None, None)]
    assert compare(decision(False), decision(False, {"a": "keep"})) == []
    assert compare(None, decision(False)) == []


def test_fields_added_removed_and_transformed_differently_are_each_named():
    now = decision(True, {"a": "keep", "b": "month", "c": "keep", "d": "drop"})
    then = decision(True, {"a": "keep", "b": "year", "e": "redact", "d": "drop"})
    assert kinds(compare(now, then)) == [
        ("transform changed", "b", "month -> year"),
        ("field removed", "c", "was keep"),
        ("field added", "e", "redact"),
    ]


def test_a_dropped_field_counts_as_withheld():
    assert compare(decision(True, {"a": "drop"}), decision(True, {})) == []
    assert kinds(compare(decision(True, {"a": "keep"}), decision(True, {"a": "drop"}))) == [
        ("field removed", "a", "was keep")
    ]


def test_obligation_changes_are_reported():
    now = decision(True, {}, ["pseudonymise_subject"])
    assert kinds(compare(now, decision(True, {}))) == [
        ("obligation removed", None, "pseudonymise_subject")
    ]


def test_the_report_lists_counts_and_event_ids_per_subscription():
    result = Impact(
        events=4,
        decisions=8,
        subscriptions=[("dfe", "statutory_return"), ("la", "strategic_reporting")],
        current_revision="a",
        candidate_revision="b",
        date="2026-06-01",
        changes={ChangeKey("la", "strategic_reporting", "field removed", "x", "was keep"): ["e1"]},
    )
    text = "\n".join(report(result, "current", "candidate", show_ids=10))
    assert "la / strategic_reporting: 1 records affected" in text
    assert "field removed x (was keep): 1 records: e1" in text
    assert "dfe" not in text.split("revision b)")[1]
    assert as_json(result)["changes"][0]["event_ids"] == ["e1"]


def test_bundle_modules_go_to_the_ids_opa_already_uses_for_the_same_files():
    loaded = ["work/main/policies/sharing/sharing.rego", "work/main/policies/sharing/w.rego"]
    ids = policy_push.module_ids(loaded, ["sharing/sharing.rego", "sharing/new.rego"])
    assert ids == {
        "sharing/sharing.rego": "work/main/policies/sharing/sharing.rego",
        "sharing/new.rego": "work/main/policies/sharing/new.rego",
    }
    assert policy_push.module_ids([], ["a/b.rego"]) == {"a/b.rego": "chorus-policy-push/a/b.rego"}


def test_the_revision_is_a_content_digest_and_a_time(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.yaml").write_text("a: 1\n")
    (tmp_path / ".x.yaml.swp").write_text("editor junk")
    when = dt.datetime(2026, 6, 1, 10, 15, tzinfo=dt.UTC)
    first = policy_push.make_revision(tmp_path, when)
    assert first.endswith("-20260601T101500Z") and len(first.split("-")[0]) == 12
    (tmp_path / ".x.yaml.swp").write_text("other junk")
    assert policy_push.make_revision(tmp_path, when) == first  # hidden files do not count
    (tmp_path / "data" / "x.yaml").write_text("a: 2\n")
    assert policy_push.make_revision(tmp_path, when) != first


def test_modules_are_put_in_whatever_order_lets_each_compile(monkeypatch):
    put: list[str] = []

    def fake_put(url, policy_id, text):
        if policy_id == "a" and "b" not in put:  # a needs b
            raise StackError("rego_type_error")
        put.append(policy_id)

    monkeypatch.setattr(policy_push.opa, "put_policy", fake_put)
    policy_push.put_modules("u", {"a": "", "b": ""})
    assert put == ["b", "a"]
    put.clear()
    monkeypatch.setattr(
        policy_push.opa, "put_policy", lambda *a: (_ for _ in ()).throw(StackError("never"))
    )
    with pytest.raises(StackError):
        policy_push.put_modules("u", {"a": ""})


def test_the_content_digest_covers_policy_text_and_ignores_the_push_record():
    policies = [{"id": "p", "raw": "package x"}]
    base = content_digest(policies, {"data": {"a": 1}})
    assert content_digest(policies, {"data": {"a": 1}, "chorus_policy_revision": {"x": 1}}) == base
    assert content_digest([{"id": "p", "raw": "package y"}], {"data": {"a": 1}}) != base
    assert content_digest(policies, {"data": {"a": 2}}) != base
