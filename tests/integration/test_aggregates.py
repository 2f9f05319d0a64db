"""The live aggregates on the real stack: synthetic shared events in, protected cells out.

Shared events are produced straight to a fresh namespace's strategic reporting
share topics (and ledger entries to its ledger), encoded as the gatekeeper
encodes them, so these tests do not depend on the connectors. Every published
cell is checked against an independent batch recomputation
(test_aggregates_reference.py) passed through the same disclosure rules.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from sqlalchemy import select

from deploy.commands.worker import worker_command
from deploy.secrets import DEVELOPMENT_KEY
from schemas import topics
from schemas.codec import Codec
from streams.aggregates import cellstore, engine, rebuild, registry, sql_sink, synthetic
from streams.aggregates.machinery import ensure_withdrawn_topic
from streams.aggregates.publication import Summary
from streams.disclosure import Rules
from streams.policy_client import PolicyClient
from streams.pseudonyms import Pseudonymiser
from tests.integration.harness import Namespace, free_port
from tests.integration.test_aggregates_reference import reference

pytestmark = pytest.mark.integration
PSEUDONYMS = Pseudonymiser(DEVELOPMENT_KEY)  # the key test workers run with
CHILDREN = 120
CARE_LEAVERS = 30
LEDGER_EVENTS = 250  # shared events that also get ledger entries (one per purpose)


def synthetic_events(seed: int) -> list[tuple[str, dict[str, Any]]]:
    synth = synthetic.Synth(seed=seed)
    synth.population(CHILDREN)
    for _ in range(CARE_LEAVERS):  # enough young people for cells that may carry statements
        synth.care_leaver(synth.hex())
    events = list(synth.out)
    return events + list(synthetic.ledger_entries(events[:LEDGER_EVENTS]))


def produce(ns: Namespace, events: list[tuple[str, dict[str, Any]]]) -> None:
    codec = Codec()
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all", linger_ms=10)
    try:
        for event_type, rec in events:
            if event_type == "platform.ledger_entry":
                topic, key = topics.ledger_topic(ns.prefix), rec["event_id"]
                value = codec.encode(event_type, rec)
            elif event_type == "platform.subject_withdrawn":
                topic, key = engine.withdrawn_topic(ns.prefix), rec["person_pseudonym"]
                value = codec.encode(event_type, rec)
            else:
                s = rec["share"]
                topic = topics.share_topic(
                    "strategic_reporting", engine.event_name(event_type), ns.prefix
                )
                key = s["person_pseudonym"] or s["record_pseudonym"]
                value = codec.encode(f"share.{event_type}", rec)
            producer.send(topic, key=key.encode(), value=value)
        producer.flush()
    finally:
        producer.close()


def start_aggregates(
    ns: Namespace, name: str, log: Path, publish_interval: float = 1.0
) -> subprocess.Popen:
    """A worker running only the aggregates (the gatekeeper has nothing to do here)."""
    cmd = worker_command(sys.executable, ns.app_id(name), publish_interval, free_port())
    return ns.start_process([*cmd, "--roles", "aggregates"], log)


def live_members(ns: Namespace, app: str, aggregate: str) -> dict[str, dict[str, Any]]:
    """Each non-empty cell's members and values, as the worker's changelogs make them."""
    return ns.live_cells(app, aggregate).members()


def rules_in_force(ns: Namespace) -> Rules:
    async def ask() -> Rules:
        client = PolicyClient(ns.stack.opa_url)
        try:
            return Rules.from_policy(await client.disclosure_rules(), await client.revision())
        finally:
            await client.close()

    return asyncio.run(ask())


def expected_cells(
    expected: dict[str, dict[str, dict]], rules: Rules, existing: dict[str, set[str]]
) -> dict[str, dict[str, dict]]:
    """The reference's cells as a subscriber should see them, after the disclosure rules."""
    out = {}
    for spec in registry.AGGREGATES:
        summaries: dict[str, Summary] = {k: Summary() for k in existing.get(spec.name, ())}
        for key, members in expected[spec.name].items():
            s = summaries[key] = Summary()
            for member, values in members.items():
                s.add_member(values, engine.record_key(PSEUDONYMS, spec.name, member))
        out[spec.name] = cellstore.published_cells(spec, summaries, rules)
    return out


def published(ns: Namespace, aggregate: str) -> dict[str, dict]:
    """The latest published cells, without their publication record."""
    return {
        k: {f: v for f, v in cell.items() if f != "publication"}
        for k, cell in ns.latest_cells(aggregate).items()
    }


def wait_for_reference(ns: Namespace, app: str, expected: dict, deadline_s: float = 240) -> None:
    for spec in registry.AGGREGATES:
        ns.poll(
            lambda s=spec: live_members(ns, app, s.name) == expected[s.name] or None,
            deadline_s,
            f"{spec.name} cells equal to the batch recomputation",
        )


def wait_for_publication(ns: Namespace, expected: dict, rules: Rules, deadline_s=90) -> None:
    """Until every aggregate's published cells are the expected ones after disclosure control.

    A cell that had members once and has none now is published as zero; the
    recomputation does not know such cells, so the cells on the topic are added
    to it with no members (and must then show zero).
    """
    for spec in registry.AGGREGATES:

        def matches(name=spec.name):
            now = published(ns, name)
            return now == expected_cells(expected, rules, {name: set(now)})[name] or None

        ns.poll(matches, deadline_s, f"{spec.name} cells equal to the recomputation's")


@pytest.fixture(scope="module")
def live(stack, tmp_path_factory):
    ns = stack.namespace()
    try:
        tmp = tmp_path_factory.mktemp("aggregates")
        ensure_withdrawn_topic(stack.bootstrap, ns.prefix)
        events = synthetic_events(seed=31)
        produce(ns, events)
        start_aggregates(ns, "it-agg", tmp / "worker.log")
        expected = reference(events)
        wait_for_reference(ns, "it-agg", expected)
        rules = rules_in_force(ns)
        wait_for_publication(ns, expected, rules)
        yield {"ns": ns, "events": events, "expected": expected, "rules": rules, "tmp": tmp}
    finally:
        ns.stop_processes()
        ns.delete_topics()


def test_every_published_cell_matches_an_independent_recomputation(live):
    ns, rules = live["ns"], live["rules"]
    statuses: set[tuple] = set()
    for spec in registry.AGGREGATES:
        cells = ns.latest_cells(spec.name)
        want = expected_cells(live["expected"], rules, {spec.name: set(cells)})[spec.name]
        assert published(ns, spec.name) == want
        gone = set(cells) - set(live["expected"][spec.name])
        assert all(
            m["value"] == 0 for k in gone for m in cells[k]["measures"] if m["kind"] == "COUNT"
        )
        for cell in cells.values():
            pub = cell["publication"]
            assert "counts from 1 to 7 suppressed" in pub["rules"]
            assert pub["method"] == rules.method_for(spec.name)
            assert pub["parameters"]["round_to"] == 5
            statuses |= {(m["status"], m["suppression"]) for m in cell["measures"]}
    assert ("SUPPRESSED", "SMALL_COUNT") in statuses and ("SUPPRESSED", "SECONDARY") in statuses
    assert ("PUBLISHED", None) in statuses


def test_statements_appear_only_in_cells_large_enough(live):
    ns, rules = live["ns"], live["rules"]
    with_statements = [c for c in ns.latest_cells("care_leavers").values() if c["statements"]]
    assert with_statements, "no cell was large enough to carry statements"
    for cell in with_statements:
        head = next(m for m in cell["measures"] if m["name"] == "young_people")
        assert head["status"] == "PUBLISHED" and head["value"] >= rules.statements_min_cell - 5
        assert len(cell["statements"]) <= rules.statements_max_per_cell
        assert {s["text"] for s in cell["statements"]} == {synthetic.REDACTED}


def test_the_sql_sink_holds_the_latest_cell_of_every_aggregate(live):
    ns = live["ns"]
    url = f"sqlite:///{live['tmp'] / 'agg.db'}"
    stats = sql_sink.run_sink(
        ns.stack.bootstrap, url, prefix=ns.prefix, group_id=ns.app_id("sink"), idle_timeout_s=5
    )
    assert stats.written > 0 and stats.undecodable == 0
    db = sql_sink.open_database(url)
    with db.connect() as conn:
        rows = {
            (r.aggregate, r.cell_key, r.measure): (r.value, r.status)
            for r in conn.execute(select(sql_sink.MEASURE))
        }
    want = {
        (name, key, m["name"]): (m["value"], m["status"])
        for name in topics.AGGREGATES
        for key, cell in ns.latest_cells(name).items()
        for m in cell["measures"]
    }
    assert rows == want
    again = sql_sink.run_sink(
        ns.stack.bootstrap, url, prefix=ns.prefix, group_id=ns.app_id("sink"), idle_timeout_s=3
    )
    assert again.messages == 0  # offsets were committed after the transaction


def test_rebuild_recomputes_the_same_cells_from_the_log(live):
    ns, rules = live["ns"], live["rules"]
    spec = registry.aggregate("care_leavers")
    before = published(ns, spec.name)
    report = rebuild.rebuild(
        spec,
        bootstrap=ns.stack.bootstrap,
        prefix=ns.prefix,
        rules=rules,
        record_key=lambda m: engine.record_key(PSEUDONYMS, spec.name, m),
        now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    assert report.cells == len(before) == report.published
    cells = ns.latest_cells(spec.name)
    assert published(ns, spec.name) == before
    assert len({c["publication"]["sequence"] for c in cells.values()}) == 1  # one fresh publication


def test_bad_input_goes_to_the_dead_letter_topic_and_the_cells_stay_right(live):
    """Foreign bytes and a cut-short event on a share topic: each is dead-lettered with its
    coordinates and the rule broken, and the published cells do not change."""
    ns, events, rules = live["ns"], live["events"], live["rules"]
    event_type, record = next(e for e in events if e[0] == "case_management.referral")
    name = topics.share_topic("strategic_reporting", "referral", ns.prefix)
    whole = Codec().encode(f"share.{event_type}", record)
    bad = [b"not avro at all", whole[: len(whole) // 2]]
    producer = KafkaProducer(bootstrap_servers=ns.stack.bootstrap, acks="all")
    sent = [producer.send(name, key=b"bad-input", value=v).get(30) for v in bad]
    producer.close()
    dlq = topics.dlq_topic("aggregate", ns.prefix)

    def two_letters() -> list[dict[str, Any]] | None:
        found = ns.decoded(dlq)
        return found if len(found) >= 2 else None

    letters = ns.poll(two_letters, 60, "two dead letters from the aggregates")
    by_offset = {d["kafka"]["offset"]: d for d in letters if d["kafka"]["topic"] == name}
    for meta, value in zip(sent, bad, strict=True):
        letter = by_offset[meta.offset]
        assert letter["stage"] == "aggregate" and letter["kafka"]["partition"] == meta.partition
        assert letter["payload"] == value and letter["reason"]
    assert by_offset[sent[0].offset]["rule"] == "avro.single_object_header"
    assert by_offset[sent[1].offset]["rule"].startswith("avro.")
    wait_for_publication(ns, live["expected"], rules, deadline_s=30)


def test_a_withdrawn_childs_contributions_leave_the_next_publication(live):
    """Last in the module: it changes what the shared worker holds."""
    ns, events, rules = live["ns"], live["events"], live["rules"]
    people = sorted(
        {r["share"]["person_pseudonym"] for et, r in events if et.startswith("case_management.")}
    )[:15]
    withdrawals = synthetic.Synth(seed=99).withdrawals(people, dt.datetime.now(dt.UTC))
    produce(ns, withdrawals)
    withdrawn = {m["person_pseudonym"]: set(m["event_types"]) for _, m in withdrawals}
    expected = reference(events, withdrawn)
    expected["information_map"] = live["expected"]["information_map"]  # metadata only: unchanged
    wait_for_reference(ns, "it-agg", expected, deadline_s=120)
    wait_for_publication(ns, expected, rules, deadline_s=60)


def test_a_worker_killed_mid_run_recovers_to_the_same_results(stack, tmp_path):
    ns = stack.namespace()
    try:
        ensure_withdrawn_topic(stack.bootstrap, ns.prefix)
        events = synthetic_events(seed=47)
        shared = [e for e in events if e[0] != "platform.ledger_entry"]
        ledger = [e for e in events if e[0] == "platform.ledger_entry"]
        first = shared[: len(shared) // 2] + ledger[: len(ledger) // 2]
        second = shared[len(shared) // 2 :] + ledger[len(ledger) // 2 :]
        produce(ns, first)
        worker = start_aggregates(ns, "it-kill", tmp_path / "worker.log")
        ns.poll(lambda: ns.latest_cells("care_leavers") or None, 180, "a first publication")
        table = "participation-contributions"
        seen = len(ns.table_state(ns.app_id("it-kill"), table))
        produce(ns, second)
        ns.poll(
            lambda: len(ns.table_state(ns.app_id("it-kill"), table)) > seen or None,
            60,
            "the worker working through the second half",
        )
        worker.send_signal(signal.SIGKILL)  # mid-run: no flush, no commit, no goodbye
        worker.wait()
        start_aggregates(ns, "it-kill", tmp_path / "worker2.log")
        expected = reference(events)
        wait_for_reference(ns, "it-kill", expected)
        wait_for_publication(ns, expected, rules_in_force(ns))
    finally:
        ns.stop_processes()
        ns.delete_topics()


def test_a_second_worker_of_the_app_makes_both_wait_and_the_first_goes_on_alone(stack, tmp_path):
    """The cells need every child: while two workers split the input, neither applies it."""
    ns = stack.namespace()
    try:
        ensure_withdrawn_topic(stack.bootstrap, ns.prefix)
        events = synthetic_events(seed=59)
        first, second = events[: len(events) // 2], events[len(events) // 2 :]
        produce(ns, first)
        start_aggregates(ns, "it-two", tmp_path / "first.log")
        wait_for_reference(ns, "it-two", reference(first))
        other = start_aggregates(ns, "it-two", tmp_path / "second.log")
        for log in ("first.log", "second.log"):
            ns.poll(
                lambda log=log: b"held by other workers" in (tmp_path / log).read_bytes() or None,
                120,
                f"the {log[:-4]} worker saying it does not hold every partition",
            )
        produce(ns, second)
        time.sleep(8)  # several batches' worth: neither worker may apply a part of them
        before = reference(first)
        for spec in registry.AGGREGATES:
            assert live_members(ns, "it-two", spec.name) == before[spec.name], spec.name
        other.terminate()
        other.wait(60)
        expected = reference(events)
        wait_for_reference(ns, "it-two", expected)  # the first worker alone again: all of it
        wait_for_publication(ns, expected, rules_in_force(ns))
    finally:
        ns.stop_processes()
        ns.delete_topics()


def test_reset_app_makes_the_next_worker_recompute_an_aggregate_from_the_log(stack, tmp_path):
    ns = stack.namespace()
    try:
        ensure_withdrawn_topic(stack.bootstrap, ns.prefix)
        events = synthetic_events(seed=53)
        produce(ns, events)
        app = ns.app_id("it-reset")
        worker = start_aggregates(ns, "it-reset", tmp_path / "worker.log")
        expected = reference(events)
        wait_for_reference(ns, "it-reset", expected)
        worker.terminate()
        worker.wait(60)
        spec = registry.aggregate("care_leavers")
        tables = [f"{spec.name}-contributions", f"{spec.name}-cell-keys"]
        entries = sum(len(ns.table_state(app, t)) for t in tables)

        def reset() -> int | None:
            try:
                return rebuild.reset_app(
                    spec, bootstrap=stack.bootstrap, prefix=ns.prefix, app_id=app
                )
            except rebuild.RebuildError:  # the stopped worker's groups not yet empty
                return None

        removed = ns.poll(reset, 90, "the app's consumer groups to be empty")
        assert entries > 0 and removed == entries  # a tombstone for every key
        assert all(ns.table_state(app, t) == {} for t in tables)
        start_aggregates(ns, "it-reset", tmp_path / "worker2.log")
        wait_for_reference(ns, "it-reset", expected)  # care_leavers recomputed from the log
        assert ns.table_state(app, f"{spec.name}-contributions")
    finally:
        ns.stop_processes()
        ns.delete_topics()
