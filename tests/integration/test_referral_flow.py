"""The whole path on the real stack: SQL source -> connector -> Kafka -> gatekeeper (OPA) ->
share topic -> aggregate -> published, disclosure-controlled cells."""

from __future__ import annotations

import signal
import sqlite3

import pytest
from kafka import KafkaProducer

from connectors.common.runner import RunStats
from schemas import topics
from schemas.codec import Codec
from tests.examples import referral
from tests.integration.flow import (
    connector,
    expected_cells,
    insert_bad_referrals,
    published,
    source_counts,
    synthetic_la,
)

pytestmark = pytest.mark.integration
AGG = "referrals_by_source"


def wait_for_exact_results(ns, app_id: str, counts, deadline_s: float = 150) -> None:
    """Until the aggregate's true counts equal the source's exactly, and published cells match."""
    ns.poll(
        lambda: ns.raw_counts(app_id, AGG) == dict(counts),
        deadline_s,
        "exact counts in the aggregate",
    )
    ns.poll(
        lambda: published(ns.latest_cells(AGG)) == expected_cells(counts), 60, "published cells"
    )


@pytest.fixture(scope="module")
def flow(stack, tmp_path_factory):
    """A synthetic LA with bad rows and foreign bytes, published, with a worker running."""
    ns = stack.namespace()
    try:
        tmp = tmp_path_factory.mktemp("flow")
        db = tmp / "cm.db"
        url = synthetic_la(db, children=1500, seed=7)
        bad_keys = insert_bad_referrals(url)
        producer = KafkaProducer(bootstrap_servers=stack.bootstrap)
        source = topics.source_topic("case_management", "referral", ns.prefix)
        for garbage in (b"not avro at all", b"\xc3\x01" + b"\x00" * 8 + b"\x02"):
            producer.send(source, key=b"garbage", value=garbage)
        # well-formed Avro from a producer that skipped validation: an NHS number failing mod 11
        invalid = referral(nhs_number=None)
        invalid["envelope"]["subject"]["nhs_number"] = "9990000019"
        producer.send(
            source, key=b"C0000001", value=Codec().encode("case_management.referral", invalid)
        )
        producer.flush()
        producer.close()
        conn = connector(ns, url, tmp / "connectors")
        stats = conn.run(until_idle=True)
        conn.close()
        ns.start_worker("it-flow", tmp / "worker.log")
        counts = source_counts(db, exclude=tuple(bad_keys))
        wait_for_exact_results(ns, "it-flow", counts)
        yield {"db": db, "ns": ns, "stats": stats, "bad_keys": bad_keys, "counts": counts}
    finally:
        ns.stop_processes()  # also when setup fails, so no worker outlives the tests
        ns.delete_topics()


def test_published_cells_equal_counts_from_the_source_database(flow):
    ns = flow["ns"]
    assert ns.raw_counts("it-flow", AGG) == dict(flow["counts"])
    cells = ns.latest_cells(AGG)
    assert published(cells) == expected_cells(flow["counts"])
    statuses = {c["measures"][0]["status"] for c in cells.values()}
    assert statuses == {"PUBLISHED", "SUPPRESSED"}  # both rules were exercised
    any_cell = next(iter(cells.values()))
    assert "counts from 1 to 7 suppressed" in any_cell["publication"]["rules"]


def test_bad_rows_are_dead_lettered_with_rule_and_coordinates(flow):
    ns = flow["ns"]
    letters = ns.decoded(topics.dlq_topic("connector", ns.prefix))
    assert sorted(d["source"]["key"] for d in letters) == sorted(flow["bad_keys"])
    assert {d["rule"] for d in letters} == {
        "referral_source.code_list",
        "primary_need.code_list",
        "dates.order",
    }
    for d in letters:
        assert d["source"]["entity"] == "ssd_cin_episodes"
        assert d["payload"]  # the original row is kept, so nothing is lost
        assert "C9999990" not in d["reason"]
    assert flow["stats"].dead_lettered == 3
    assert flow["stats"].published == flow["stats"].read - 3


def test_foreign_bytes_are_dead_lettered_by_the_first_stream_stage(flow):
    ns = flow["ns"]
    assert ns.decoded(topics.dlq_topic("gatekeeper", ns.prefix)) == []
    letters = ns.decoded(topics.dlq_topic("identity", ns.prefix))
    assert sorted(d["rule"] for d in letters) == [
        "avro.single_object_header",
        "avro.unknown_fingerprint",
        "nhs_number.check",
    ]
    invalid = next(d for d in letters if d["rule"] == "nhs_number.check")
    assert "9990000019" not in invalid["reason"]
    assert all(
        d["kafka"]["topic"].endswith("chorus.source.case_management.referral") for d in letters
    )


def test_shared_events_carry_no_identifiers(flow):
    ns = flow["ns"]
    con = sqlite3.connect(flow["db"])
    ids = set()
    for nhs, pid in con.execute("select pers_common_child_id, pers_person_id from ssd_person"):
        ids.update(x.encode() for x in (nhs, pid) if x)
    ids.update(
        u.encode()
        for (u,) in con.execute("select link_identifier_value from ssd_linked_identifiers")
    )
    con.close()
    messages = ns.read_all(topics.share_topic("strategic_reporting", "referral", ns.prefix))
    assert len(messages) == flow["stats"].published
    for m in messages:
        assert not any(i in m.value or i in (m.key or b"") for i in ids)
        assert dict(m.headers)["chorus-purpose"] == b"strategic_reporting"


def test_every_decision_is_in_the_ledger(flow):
    ns = flow["ns"]
    entries = ns.decoded(topics.ledger_topic(ns.prefix))
    assert len({e["event_id"] for e in entries}) == flow["stats"].published
    subscriptions = {(e["recipient"], e["purpose"]) for e in entries}
    assert len(subscriptions) > 2  # a decision for every subscription, shared or not
    decisions = {(e["event_id"], e["recipient"], e["purpose"]) for e in entries}
    assert len(decisions) == flow["stats"].published * len(subscriptions)
    shared = {e["purpose"] for e in entries if e["outcome"] == "SHARED"}
    assert shared == {"strategic_reporting", "statutory_return"}
    refused = [e for e in entries if e["outcome"] == "NOT_SHARED"]
    assert all(e["share_topic"] is None and e["reason"] for e in refused)
    assert all(e["policy_revision"] and e["lawful_basis"] for e in entries)


def test_restarts_mid_run_lose_nothing_and_count_nothing_twice(namespace, tmp_path):
    db = tmp_path / "cm.db"
    url = synthetic_la(db, children=2000, seed=11)
    conn = connector(namespace, url, tmp_path / "connectors", batch_size=200)
    for _ in range(3):
        conn.run_batch(RunStats())
    worker = namespace.start_worker("it-restart", tmp_path / "worker.log")
    namespace.poll(lambda: namespace.latest_cells(AGG), 120, "first published cells")
    # The connector crashes after the broker acknowledged a batch but before storing its position.
    batch = conn.connector.read(conn.position(), 200)
    conn.publisher.publish(conn.messages(batch.items, RunStats()))
    conn.close()
    # The worker is killed while it is still working through the stream.
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    restarted = connector(namespace, url, tmp_path / "connectors", batch_size=200)
    restarted.run(until_idle=True)
    restarted.close()
    namespace.start_worker("it-restart", tmp_path / "worker2.log")
    wait_for_exact_results(namespace, "it-restart", source_counts(db))
    source = namespace.read_all(
        topics.source_topic("case_management", "referral", namespace.prefix)
    )
    con = sqlite3.connect(db)
    referrals = con.execute("select count(*) from ssd_cin_episodes").fetchone()[0]
    con.close()
    assert len(source) == referrals + batch.read  # the crashed batch really was published twice


def test_two_purposes_get_different_pseudonyms_for_the_same_child(flow):
    ns = flow["ns"]
    by_purpose = {}
    for purpose in ("strategic_reporting", "statutory_return"):
        shared = ns.decoded(topics.share_topic(purpose, "referral", ns.prefix))
        by_purpose[purpose] = {s["share"]["event_id"]: s["share"] for s in shared}
    common = set(by_purpose["strategic_reporting"]) & set(by_purpose["statutory_return"])
    assert len(common) == flow["stats"].published
    for event_id in common:
        a = by_purpose["strategic_reporting"][event_id]
        b = by_purpose["statutory_return"][event_id]
        assert a["person_pseudonym"] and b["person_pseudonym"]
        assert a["person_pseudonym"] != b["person_pseudonym"]
        assert a["record_pseudonym"] != b["record_pseudonym"]
    # within one purpose, one child keeps one pseudonym: as many as there are children referred
    children = len({s["person_pseudonym"] for s in by_purpose["strategic_reporting"].values()})
    con = sqlite3.connect(flow["db"])
    referred = con.execute(
        "select count(distinct cine_person_id) from ssd_cin_episodes where cine_referral_id"
        f" not in ({','.join('?' * len(flow['bad_keys']))})",
        flow["bad_keys"],
    ).fetchone()[0]
    con.close()
    assert children == referred
