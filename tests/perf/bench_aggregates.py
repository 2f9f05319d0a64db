"""Benchmark: the live aggregates, from strategic reporting share topics to published cells.

    .venv/bin/chorus stack up
    .venv/bin/python -m tests.perf.bench_aggregates [--children 2000] [--rate 1000] [--seconds 30]
        [--ledger-events 3000] [--cadence 5] [--throughput-cadence 1]

In one run, on the real local stack, in a fresh topic namespace:

1. Throughput. A synthetic LA's shared events (and ledger entries) are produced
   to the share topics first. A raw loop (aiokafka: consume every message of the
   same topics, produce it to another topic with acks=all, the client faust
   uses) gives the ceiling: the median of three runs, two before the aggregates
   and one after, as the machine's speed varies from minute to minute when it is
   shared. Then a worker runs the aggregates over the same
   topics until its published cells equal a batch recomputation. Rates come from
   Kafka's own message timestamps (first changelog write to last published cell),
   so worker start-up is not counted. Beside them, events per CPU second of the
   raw loop and of the worker (from "Worker ready" to exact cells, read from
   /proc): the machine is shared, and CPU time varies less than wall time.
2. Delay. With a worker already running, new events are produced at a steady
   rate. Each new referral is a probe: its delay is from its own timestamp to
   the first publication after its fact was written (and so taken into the
   cells; a cell whose published value does not change is not sent again, so
   publications are read as the cadence's ticks). p50 and p99 are printed beside the goal
   (2 s + cadence).

The throughput run publishes every second (--throughput-cadence), the delay run
on the worker's default cadence of 5 s (--cadence; the worker is restarted
between the two when they differ): at 5 s the throughput figure would mostly
measure the wait for the last publication.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from schemas import topics
from schemas.codec import Codec
from streams.aggregates import cellstore, engine, intake, registry, synthetic
from streams.aggregates.machinery import ensure_withdrawn_topic
from tests.integration.harness import REPO, Namespace, Stack, free_port, wait_for_stack
from tests.integration.test_aggregates import PSEUDONYMS, rules_in_force, start_aggregates

CADENCE_S = 5.0  # the worker's default publication interval; --cadence changes it
# The throughput run publishes every second: its last events otherwise wait up to a whole
# cadence for their publication, a fixed latency that is most of the run's length beside a
# ten-second run (the delay run measures that latency at the worker's own cadence).
THROUGHPUT_CADENCE_S = 1.0
RAW_RUNS = 3


def encoded(
    ns: Namespace, events: list[tuple[str, dict[str, Any]]]
) -> list[tuple[str, bytes, bytes]]:
    codec = Codec()
    out = []
    for event_type, rec in events:
        if event_type == "platform.ledger_entry":
            out.append(
                (
                    topics.ledger_topic(ns.prefix),
                    rec["event_id"].encode(),
                    codec.encode(event_type, rec),
                )
            )
            continue
        s = rec["share"]
        name = topics.share_topic("strategic_reporting", engine.event_name(event_type), ns.prefix)
        key = (s["person_pseudonym"] or s["record_pseudonym"]).encode()
        out.append((name, key, codec.encode(f"share.{event_type}", rec)))
    return out


async def produce(bootstrap: str, messages, rate: float | None = None) -> list[tuple[int, bytes]]:
    """Send the messages (at `rate` per second if given); returns (timestamp ms, key) of each."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = []
    try:
        start = time.monotonic()
        futures = []
        for i, (topic, key, value) in enumerate(messages):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            ts = int(time.time() * 1000)
            futures.append(
                (ts, key, await producer.send(topic, value=value, key=key, timestamp_ms=ts))
            )
        for ts, key, fut in futures:
            await fut
            sent.append((ts, key))
    finally:
        await producer.stop()
    return sent


async def raw_loop(bootstrap: str, names: list[str], out: str, expected: int) -> float:
    """Consume every message of `names` and produce it to `out`; returns events/s."""
    consumer = AIOKafkaConsumer(
        *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        seen = 0
        first = None
        pending = []
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            for records in batches.values():
                for msg in records:
                    first = first or time.perf_counter()
                    pending.append(await producer.send(out, value=msg.value, key=msg.key))
                    seen += 1
            if len(pending) > 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        return seen / (time.perf_counter() - first)
    finally:
        await consumer.stop()
        await producer.stop()


def faust_ceiling_worker(prefix: str, expected: int, web_port: int) -> None:
    """Child process: a faust agent that only counts the same topics (faust's own ceiling)."""
    import faust

    app = faust.App(
        f"{prefix}bench-ceiling",
        broker="kafka://127.0.0.1:9092",
        store="memory://",
        topic_partitions=topics.DEFAULT_PARTITIONS,
        consumer_auto_offset_reset="earliest",
        web_port=web_port,
        datadir=tempfile.mkdtemp(prefix="chorus-bench-ceiling-"),
    )
    source = app.topic(*all_inputs(prefix), value_serializer="raw", key_serializer="raw")
    seen = {"n": 0, "t0": 0.0}

    @app.agent(source, concurrency=1)
    async def count(stream):
        async for batch in stream.take_events(1000, within=0.1):
            seen["t0"] = seen["t0"] or time.perf_counter()
            seen["n"] += len(batch)
            if seen["n"] >= expected:
                print(f"CEILING {seen['n'] / (time.perf_counter() - seen['t0']):.0f}", flush=True)

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--web-port", str(web_port)]
    app.main()


def faust_ceiling(ns: Namespace, expected: int) -> float | None:
    """events/s of a faust agent that does nothing but count the same messages."""
    cmd = [sys.executable, "-m", "tests.perf.bench_aggregates", "--ceiling", ns.prefix]
    cmd += [str(expected), str(free_port())]
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for line in proc.stdout:  # faust logs what the agent prints
            if "CEILING" in line:
                return float(line.split("CEILING", 1)[1].split()[0])
        return None
    finally:
        proc.terminate()
        proc.wait(30)


def all_inputs(prefix: str) -> list[str]:
    names = {n for spec in registry.AGGREGATES for n in engine.input_topics(spec, prefix)}
    return sorted(names)


def expected_counts(events) -> dict[str, dict[str, int]]:
    out = {}
    for spec in registry.AGGREGATES:
        store = cellstore.recompute(
            spec, events, lambda m, s=spec: engine.record_key(PSEUDONYMS, s.name, m)
        )
        out[spec.name] = {k: v for k, v in store.counts().items() if v}
    return out


def live_counts(ns: Namespace, app: str, name: str) -> dict[str, int]:
    return {k: n for k, n in ns.live_cells(app, name).counts().items() if n}


def intake_committed(ns: Namespace, app: str) -> int:
    """Messages of the inputs that the app's intake has committed (all applied and written)."""
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    try:
        group = intake.group_id(ns.app_id(app))
        offsets = admin.list_group_offsets(group).get(group) or {}
    finally:
        admin.close()
    inputs = set(all_inputs(ns.prefix))
    return sum(o.offset for tp, o in offsets.items() if tp.topic in inputs and o.offset > 0)


def raw_run(ns: Namespace, n: int) -> tuple[float, float]:
    """One raw loop over the inputs: (events/s, events per CPU second)."""
    cpu0 = time.process_time()
    rate = asyncio.run(
        raw_loop(ns.stack.bootstrap, all_inputs(ns.prefix), f"{ns.prefix}bench.raw-out", n)
    )
    return rate, n / (time.process_time() - cpu0)


def throughput(ns: Namespace, tmp: Path, events, cadence: float) -> None:
    messages = encoded(ns, events)
    n = len(messages)
    asyncio.run(produce(ns.stack.bootstrap, messages))
    print(f"input: {n} messages on {len(all_inputs(ns.prefix))} topics")
    admin = KafkaAdminClient(bootstrap_servers=ns.stack.bootstrap)
    admin.create_topics([NewTopic(f"{ns.prefix}bench.raw-out", topics.DEFAULT_PARTITIONS, 1)])
    admin.close()
    runs = [raw_run(ns, n) for _ in range(RAW_RUNS - 1)]
    ceiling = faust_ceiling(ns, n)
    if ceiling:
        print(f"faust agent that only counts them (faust's own ceiling): {ceiling:,.0f} events/s")
    expected = expected_counts(events)
    workers = 1  # one aggregates worker per app id (deploy/OPERATIONS.md)
    log = tmp / "worker-0" / "worker.log"
    log.parent.mkdir()
    proc = start_aggregates(ns, "bench", log, publish_interval=cadence)
    began = time.perf_counter()
    ns.poll(lambda: b"Worker ready" in log.read_bytes() or None, 300, "ready")
    cpu_ready = cpu_seconds(proc.pid)
    # Waiting reads one offset list a second: reading the changelogs while the
    # worker runs would take the CPU that the worker and the broker share on the machine.
    ns.poll(lambda: intake_committed(ns, "bench") >= n or None, 1800, "intake")
    for spec in registry.AGGREGATES:
        ns.poll(
            lambda s=spec: live_counts(ns, "bench", s.name) == expected[s.name] or None,
            1800,
            spec.name,
        )
    cpu_used = cpu_seconds(proc.pid) - cpu_ready
    time.sleep(3 * cadence)  # the publication after the last change
    print(
        f"{workers} worker(s): start to exact cells {time.perf_counter() - began:.0f}s "
        "(includes start-up)"
    )
    writes = [
        m
        for spec in registry.AGGREGATES
        for m in ns.read_all(f"{ns.app_id('bench')}-{spec.name}-contributions-changelog")
    ]
    published = [
        m for name in topics.AGGREGATES for m in ns.read_all(topics.agg_topic(name, ns.prefix))
    ]
    # the machine's speed drifts over minutes: one raw run after the aggregates, too
    runs.append(raw_run(ns, n))
    raw = statistics.median(r for r, _ in runs)
    raw_cpu = statistics.median(c for _, c in runs)
    print(
        f"raw consume-and-produce loop (aiokafka, acks=all), median of {RAW_RUNS} "
        f"({RAW_RUNS - 1} before the aggregates, 1 after): {raw:,.0f} events/s; "
        f"{raw_cpu:,.0f} events per CPU second "
        f"(runs: {', '.join(f'{r:,.0f}/s' for r, _ in runs)})"
    )
    first = min(m.timestamp for m in writes)
    into_cells = n / ((max(m.timestamp for m in writes) - first) / 1000)
    rate = n / ((max(m.timestamp for m in published) - first) / 1000)
    print(
        f"aggregates end to end ({workers} worker(s), 6 aggregates, share topic to published "
        f"cells, cadence "
        f"{cadence:.0f}s): {rate:,.0f} events/s = {100 * rate / raw:.0f}% of the raw loop "
        f"(goal >= 50%); into the cells (facts written): {into_cells:,.0f} events/s "
        f"= {100 * into_cells / raw:.0f}%"
    )
    deliveries = sum(
        1 for et, _ in events for spec in registry.AGGREGATES if engine.reads(spec, et)
    )
    print(f"  (each event reaches on average {deliveries / n:.1f} aggregates)")
    print(
        f"CPU: the worker(s) used {cpu_used:.1f}s from ready to exact cells = {n / cpu_used:,.0f} "
        f"events per CPU second = {100 * n / cpu_used / raw_cpu:.0f}% of the raw loop's"
    )


def restart(ns: Namespace, tmp: Path, cadence: float) -> None:
    """The worker again, publishing on ``cadence``, once it has restored its state."""
    ns.stop_processes()
    log = tmp / "worker-delay" / "worker.log"
    log.parent.mkdir()
    start_aggregates(ns, "bench", log, publish_interval=cadence)
    ns.poll(lambda: b"changelog entries restored" in log.read_bytes() or None, 300, "restored")
    print(f"worker restarted with a {cadence:.0f}s cadence for the delay run")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delay(ns: Namespace, rate: float, seconds: float, seed: int, cadence: float) -> None:
    synth = synthetic.Synth(seed=seed)
    background = list(synth.population(int(rate * seconds / 12)))  # a copy: probes come next
    probes = []
    rng = random.Random(seed)
    for _ in range(int(rate * seconds / 10)):
        person = synth.hex()
        synth.referral(person, f"2026-{rng.randint(1, 12):02d}")
        probes.append(synth.out[-1])
    mixed = [e for e in background if e[0] != "platform.ledger_entry"] + probes
    rng.shuffle(mixed)
    mixed = mixed[: int(rate * seconds)]
    messages = encoded(ns, mixed)
    probe_keys = {p[1]["share"]["record_pseudonym"][:16]: p for p in probes}
    print(
        f"steady load: {len(messages)} events at {rate:.0f}/s ({len(probe_keys)} probe referrals)"
    )
    sent = asyncio.run(produce(ns.stack.bootstrap, messages, rate=rate))
    sent_at = {}
    for (ts, _), (et, rec) in zip(sent, mixed, strict=True):
        record = rec["share"]["record_pseudonym"][:16]
        if et == "case_management.referral" and record in probe_keys:
            sent_at[record] = ts
    time.sleep(5 + 2 * cadence)  # the last probes reach a publication
    applied: dict[str, int] = {}  # when the referral's fact was written, then in the cells
    for m in ns.read_all(f"{ns.app_id('bench')}-referrals_by_source-contributions-changelog"):
        for fact in facts_of(m.value):
            record = fact.split(":", 1)[0]
            if record in sent_at and record not in applied:
                applied[record] = m.timestamp
    ticks = sorted(
        {
            m.timestamp
            for name in topics.AGGREGATES
            for m in ns.read_all(topics.agg_topic(name, ns.prefix))
        }
    )
    delays, into_cells = [], []
    for record, t0 in sent_at.items():
        if record not in applied:
            continue
        later = [t for t in ticks if t >= applied[record]]
        if later:
            delays.append((later[0] - t0) / 1000)
            into_cells.append((applied[record] - t0) / 1000)
    if not delays:
        print("delay: no probe was published (is the worker running?)")
        return
    p50, p99 = percentiles(delays)
    c50, c99 = percentiles(into_cells)
    print(
        f"delay from an event's publication to its published cell at {rate:.0f} events/s "
        f"(cadence {cadence:.0f}s): p50 {p50:.2f}s, p99 {p99:.2f}s over {len(delays)} probes "
        f"(goal p99 < {2 + cadence:.0f}s)\n  of which into the cells: p50 {c50:.2f}s, "
        f"p99 {c99:.2f}s; the rest waits for the next publication"
    )


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def facts_of(value: bytes | None) -> list[str]:
    """The fact keys (``<record>:<event>``) of a subject's state on a contributions changelog."""
    return list((json.loads(value or b"{}") or {}).get("f") or {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=2000, help="size of the synthetic LA")
    parser.add_argument(
        "--ledger-events", type=int, default=3000, help="events given ledger entries"
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="steady load, events/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the steady load runs")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--cadence", type=float, default=CADENCE_S, help="seconds between publications"
    )
    parser.add_argument(
        "--throughput-cadence",
        type=float,
        default=THROUGHPUT_CADENCE_S,
        help="seconds between publications in the throughput run",
    )
    parser.add_argument("--ceiling", nargs=3, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.ceiling:
        faust_ceiling_worker(args.ceiling[0], int(args.ceiling[1]), int(args.ceiling[2]))
        return

    stack = Stack(
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        opa_url=os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181",
    )
    problem = wait_for_stack(stack, 10)
    if problem:
        raise SystemExit(f"{problem}: run `chorus stack up` first")
    rules_in_force(Namespace(stack, prefix=""))  # fails now, not after minutes, without rules
    ns = stack.namespace()
    tmp = Path(tempfile.mkdtemp(prefix="chorus-bench-agg-"))
    try:
        ensure_withdrawn_topic(stack.bootstrap, ns.prefix)
        events = synthetic.Synth(seed=args.seed).population(args.children)
        events = events + list(synthetic.ledger_entries(events[: args.ledger_events]))
        print(
            f"{dt.datetime.now():%H:%M:%S} synthetic LA: {args.children} children, "
            f"{len(events)} events"
        )
        throughput(ns, tmp, events, args.throughput_cadence)
        if args.throughput_cadence != args.cadence:
            restart(ns, tmp, args.cadence)
        delay(ns, args.rate, args.seconds, args.seed + 1, args.cadence)
    finally:
        ns.stop_processes()
        ns.delete_topics()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
