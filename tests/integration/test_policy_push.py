"""`chorus policy push` on the real stack: a running worker's decisions change after a push,
with the new revision in the share headers and the ledger, and no restart.

The test runs its own OPA (started like the stack's, watching a copy of policies/, on a
free port, stopped by its PID), so the shared OPA other tests use is never changed.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer

from deploy.local.opa import ScratchOpa, binary_path, put_data
from schemas import topics
from schemas.codec import Codec
from schemas.examples import envelope
from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.identifiers import synthetic_nhs_number
from streams.policy_client import PUSHING, REVISION_MARKER, PolicyClient, PolicyError
from tests.integration.harness import REPO, Stack

pytestmark = pytest.mark.integration
codec = Codec()
CACHE = Path("~/.cache/chorus").expanduser()
REFERRAL = "case_management.referral"
counter = itertools.count()


@pytest.fixture
def own_opa(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(REPO / "policies", folder, ignore=shutil.ignore_patterns(".*"))
    opa = ScratchOpa(binary_path(CACHE), folder, watch=True)
    url = opa.start()
    try:
        yield url, folder
    finally:
        opa.stop()


@pytest.fixture
def own_namespace(stack, own_opa):
    ns = Stack(stack.bootstrap, own_opa[0]).namespace()
    yield ns
    ns.stop_processes()
    ns.delete_topics()


def send_referrals(ns, n: int) -> list[str]:
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all")
    ids = []
    for _ in range(n):
        i = next(counter)
        record = copy.deepcopy(CASE_MANAGEMENT[REFERRAL])
        record["envelope"] = envelope(
            REFERRAL,
            key=f"PUSH-{i}",
            la_child_id=f"C{800 + i:07d}",
            nhs_number=synthetic_nhs_number(8000 + i),
        )
        ids.append(record["envelope"]["event_id"])
        producer.send(
            topics.source_topic("case_management", "referral", ns.prefix),
            value=codec.encode(REFERRAL, record),
        )
    producer.flush()
    producer.close()
    return ids


def strategic_shares(ns) -> dict[str, tuple[dict, dict]]:
    """event id -> (headers, shared event) on the strategic-reporting referral topic."""
    out = {}
    for m in ns.read_all(topics.share_topic("strategic_reporting", "referral", ns.prefix)):
        headers = {k: v.decode() for k, v in m.headers}
        out[headers["chorus-event-id"]] = (headers, codec.decode(m.value)[1])
    return out


def ledger_for(ns, ids: list[str]) -> list[dict]:
    wanted = set(ids)
    return [
        e
        for e in ns.decoded(topics.ledger_topic(ns.prefix))
        if e["event_id"] in wanted and e["purpose"] == "strategic_reporting"
    ]


def revision_of(url: str) -> str:
    async def ask() -> str:
        client = PolicyClient(url)
        try:
            return await client.current_revision()
        finally:
            await client.close()

    return asyncio.run(ask())


def test_a_running_worker_decides_with_the_pushed_revision(own_opa, own_namespace, tmp_path):
    url, _folder = own_opa
    ns = own_namespace
    ns.start_worker("it-push", tmp_path / "worker.log")
    before_ids = send_referrals(ns, 3)
    ns.poll(lambda: len(ledger_for(ns, before_ids)) == 3, 150, "decisions before the push")
    old = revision_of(url)
    shares = strategic_shares(ns)
    assert {shares[i][0]["chorus-policy-revision"] for i in before_ids} == {old}
    assert all(shares[i][1]["referral_source"] is not None for i in before_ids)

    candidate = tmp_path / "candidate"
    shutil.copytree(REPO / "policies", candidate, ignore=shutil.ignore_patterns(".*"))
    path = candidate / "data" / "purposes.yaml"
    doc = yaml.safe_load(path.read_text())
    del doc["purposes"]["strategic_reporting"]["events"][REFERRAL]["referral_source"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    pushed = subprocess.run(
        [sys.executable, "-m", "deploy", "policy", "push", "--dir", str(candidate)]
        + ["--bundle-dir", str(tmp_path / "bundles")],
        cwd=REPO,
        env=ns.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    new = revision_of(url)
    assert new != old and new in pushed.stdout and list((tmp_path / "bundles").glob("*.tar.gz"))

    # The worker is not restarted: it sees the new revision within its revision poll.
    def decided_with_new_revision() -> bool:
        probe = send_referrals(ns, 1)
        entries = ns.poll(lambda: ledger_for(ns, probe), 60, "a probe's decision")
        return entries[0]["policy_revision"] == new

    ns.poll(decided_with_new_revision, 90, "the worker to decide with the pushed revision")
    after_ids = send_referrals(ns, 3)
    ns.poll(lambda: len(ledger_for(ns, after_ids)) == 3, 90, "decisions after the push")
    entries = ledger_for(ns, after_ids)
    assert {e["policy_revision"] for e in entries} == {new}
    assert all("referral_source" in e["fields_withheld"] for e in entries)
    shares = strategic_shares(ns)
    assert {shares[i][0]["chorus-policy-revision"] for i in after_ids} == {new}
    assert all(shares[i][1]["referral_source"] is None for i in after_ids)
    assert all(shares[i][1]["share"]["policy_revision"] == new for i in after_ids)


def test_no_answer_is_taken_from_opa_while_a_push_is_under_way(own_opa):
    url, _ = own_opa
    question = {
        "event_type": REFERRAL,
        "purpose": "strategic_reporting",
        "recipient": "la_performance_team",
        "date": "2026-06-01",
        "voice_consent": None,
    }

    async def decide():
        client = PolicyClient(url)
        try:
            return await client.decide(question)
        finally:
            await client.close()

    assert asyncio.run(decide()).allow
    put_data(url, REVISION_MARKER, {"state": PUSHING, "revision": "r-under-way"})
    with pytest.raises(PolicyError, match="under way"):
        asyncio.run(decide())
