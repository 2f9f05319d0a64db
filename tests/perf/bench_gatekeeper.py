"""Benchmark: the gatekeeper's events per second, with and without the decision cache, and
with the policy call removed, on the real local stack.

    .venv/bin/chorus stack up
    .venv/bin/python -m tests.perf.bench_gatekeeper --events 20000

For each mode it writes the same synthetic events (every example event type in turn,
about one child in four with recorded wishes) to chorus.linked in a fresh topic
namespace, as the identity agent would (a person key header), then starts a worker
running only the gatekeeper and waits until the ledger holds a decision for every
event and subscription. Rates come from the ledger messages' own Kafka timestamps
(first to last), so worker start-up is not counted.

- ``cache``: the normal worker; OPA is asked once per distinct decision input.
- ``no cache`` (``--no-decision-cache``): every decision asks the OPA server. It is
  about a hundred times slower, so it runs on a sample (``--nocache-events``).
- ``bypass`` (``--policy-mode bypass``, BENCHMARK ONLY): the same pipeline with the
  policy call removed: each subscription's first answer for an event type is reused
  for every later event, so the shares and ledger entries written are the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from deploy.commands.worker import worker_command
from schemas import topics
from schemas.codec import Codec
from schemas.examples import case_management, consent, education, health, voice
from schemas.topics import DEFAULT_PARTITIONS
from streams.identity.agent import PERSON_KEY_HEADER
from streams.policy_client import PolicyClient
from tests.integration.harness import REPO, Namespace, Stack, free_port, wait_for_stack

BENCH_NAMESPACE = uuid.UUID("5e1f0c7a-3b8d-4d6e-9a2f-b3c4d5e6f708")
MODES = {
    "cache": (),
    "no cache": ("--no-decision-cache",),
    "bypass": ("--policy-mode", "bypass"),
}


def synthetic_events(n: int, persons: int) -> list[tuple[bytes, bytes, list]]:
    """n linked messages (key, value, headers): example events in turn, unique event ids."""
    codec = Codec()
    examples = {
        **case_management.EXAMPLES,
        **consent.EXAMPLES,
        **education.EXAMPLES,
        **health.EXAMPLES,
        **voice.EXAMPLES,
    }
    kinds = sorted(examples)
    out = []
    for i in range(n):
        event_type = kinds[i % len(kinds)]
        record = dict(examples[event_type])
        record["envelope"] = {
            **record["envelope"],
            "event_id": str(uuid.uuid5(BENCH_NAMESPACE, f"bench-{i}")),
        }
        if event_type == "consent.sharing_preference_recorded":
            record["preference_id"] = f"SP{i:07d}"
        person = f"p-bench-{i % persons:06d}"
        value = codec.encode(event_type, record)
        out.append((person.encode(), value, [(PERSON_KEY_HEADER, person.encode())]))
    return out


def publish(ns: Namespace, messages: list[tuple[bytes, bytes, list]]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=ns.stack.bootstrap, linger_ms=20, batch_size=256 * 1024
    )
    topic = topics.linked_topic(ns.prefix)
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def ledger_span(ns: Namespace) -> tuple[int, float]:
    """(messages on the ledger, seconds from its first to its last message timestamp)."""
    consumer = KafkaConsumer(bootstrap_servers=ns.stack.bootstrap, enable_auto_commit=False)
    try:
        name = topics.ledger_topic(ns.prefix)
        parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or []]
        consumer.assign(parts)
        begin, end = consumer.beginning_offsets(parts), consumer.end_offsets(parts)
        first, last = [], []
        for tp in parts:
            if end[tp] <= begin[tp]:
                continue
            for offset, bucket in ((begin[tp], first), (end[tp] - 1, last)):
                consumer.seek(tp, offset)
                records = consumer.poll(timeout_ms=5000, max_records=1).get(tp, [])
                bucket.extend(r.timestamp for r in records[:1])
        count = sum(end[tp] - begin[tp] for tp in parts)
        span = (max(last) - min(first)) / 1000 if first and last else 0.0
        return count, span
    finally:
        consumer.close()


def ledger_count(ns: Namespace) -> int:
    consumer = KafkaConsumer(bootstrap_servers=ns.stack.bootstrap)
    try:
        name = topics.ledger_topic(ns.prefix)
        parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or []]
        end = consumer.end_offsets(parts)
        return sum(end.values())
    finally:
        consumer.close()


def create_changelog(ns: Namespace, app_id: str) -> None:
    """The gatekeeper table's changelog, made before the worker starts: a worker that makes
    it itself on a loaded machine can miss it in its first metadata and stall."""
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    try:
        name = f"{app_id}-gatekeeper-subjects-changelog"
        spec = NewTopic(name, DEFAULT_PARTITIONS, 1, topic_configs={"cleanup.policy": "compact"})
        admin.create_topics([spec])
        ns.poll(lambda: name in admin.list_topics(), 60, "the changelog topic")
    finally:
        admin.close()


def run_mode(
    stack: Stack, name: str, messages, subscriptions: int, batch: int, tmp: Path
) -> tuple[int, float]:
    ns = stack.namespace()
    try:
        publish(ns, messages)
        app_id = ns.app_id(f"bench-gk-{name.replace(' ', '-')}")
        create_changelog(ns, app_id)
        extra = ("--roles", "gatekeeper", "--gatekeeper-batch", str(batch), *MODES[name])
        cmd = worker_command(sys.executable, app_id, 5.0, free_port(), *extra)
        log = tmp / f"worker-{name.replace(' ', '-')}.log"
        with open(log, "ab") as fh:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=ns.env(CHORUS_HOME=str(tmp)),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ns.processes.append(proc)
        ns.logs.append(log)
        wanted = len(messages) * subscriptions
        ns.poll(lambda: ledger_count(ns) >= wanted, 1800, f"{wanted} ledger entries ({name})")
        count, span = ledger_span(ns)
        return count // subscriptions, span
    finally:
        ns.stop_processes()
        ns.delete_topics()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="events per mode")
    parser.add_argument(
        "--nocache-events",
        type=int,
        default=None,
        help="events for the no-cache mode (default: a tenth of --events, at least 500)",
    )
    parser.add_argument("--persons", type=int, default=None, help="children (default events/4)")
    parser.add_argument("--batch", type=int, default=500, help="--gatekeeper-batch")
    parser.add_argument(
        "--modes", default="bypass,cache,no cache", help="comma-separated: bypass,cache,no cache"
    )
    args = parser.parse_args()
    stack = Stack(
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        opa_url=os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181",
    )
    problem = wait_for_stack(stack, 10)
    if problem:
        raise SystemExit(f"{problem}: run `chorus stack up` first")

    async def count_subscriptions() -> int:
        client = PolicyClient(stack.opa_url)
        try:
            return len(await client.subscriptions())
        finally:
            await client.close()

    subscriptions = asyncio.run(count_subscriptions())
    persons = args.persons or max(1, args.events // 4)
    nocache = args.nocache_events or max(500, args.events // 10)
    tmp = Path(tempfile.mkdtemp(prefix="chorus-bench-gk-"))
    began = time.perf_counter()
    messages = synthetic_events(max(args.events, nocache), persons)
    print(
        f"{len(messages)} synthetic events for {persons} children built in "
        f"{time.perf_counter() - began:.1f}s; {subscriptions} subscriptions; "
        f"batch {args.batch}; logs in {tmp}"
    )
    results: dict[str, float] = {}
    for name in [m.strip() for m in args.modes.split(",") if m.strip()]:
        n = nocache if name == "no cache" else args.events
        events, span = run_mode(stack, name, messages[:n], subscriptions, args.batch, tmp)
        rate = events / span if span else float("nan")
        results[name] = rate
        print(
            f"gatekeeper {name:<9}: {events} events ({events * subscriptions} decisions) "
            f"in {span:.2f}s = {rate:,.0f} events/s",
            flush=True,
        )
    if "cache" in results and "bypass" in results:
        print(f"with cache / policy bypassed: {results['cache'] / results['bypass']:.0%}")
    if "cache" in results and "no cache" in results:
        print(f"with cache / without cache: {results['cache'] / results['no cache']:.1f}x")


if __name__ == "__main__":
    main()
