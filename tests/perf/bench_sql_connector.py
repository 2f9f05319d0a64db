"""Benchmark: events per second the SQL (case-management) connector publishes to the real Kafka.

    .venv/bin/chorus stack up
    .venv/bin/python -m tests.perf.bench_sql_connector --children 200000

Writes a synthetic LA (every SSD table; the database is kept in --cache-dir and
reused for the same --children and --seed), then runs the connector over every
table in snapshot mode, in this process, through the real runner: read, map,
Avro-encode, publish with acks=all, wait for every acknowledgement, store the
position. The rate is acknowledged events over the run's wall time.

--stages also times each stage on its own (no Kafka), on the first 10,000 rows of
every table: SQL read and lookups, mapping, encoding, batch by batch as the runner
does (each batch dropped once encoded) and with the runner's garbage collector
setting (``schemas.garbage.fewer_collections``). --profile prints the run's top
costs (of the main thread only: reading and mapping run in the connector's read-ahead
thread, publishing in the producer's). --processes N shards the tables over N
`chorus connector run` processes (each its own configuration with a share of the
tables, its own position and producer, as a deployment can run several connector
instances over one database), and reports the combined rate over their wall time. One
connector process uses one core at most (Python's GIL), so sharding is the only way
this benchmark uses more. The topics it creates (prefix ``bench<time>.``) are deleted
at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from sqlalchemy import create_engine, func, select

from connectors import registry
from connectors.case_management import ssd
from connectors.case_management.connector import CaseManagementConnector
from connectors.case_management.mappings import TABLE_NAMES
from connectors.common.base import Mapped
from connectors.common.runner import ConnectorRunner
from deploy.synth.case_management import SynthOptions, write_case_management_db
from schemas import topics
from schemas.catalogue import default_catalogue
from schemas.codec import Codec
from schemas.garbage import fewer_collections
from tests.integration.harness import REPO, Stack, poll, wait_for_stack

DOMAINS = ("case_management", "voice", "consent")


def synthetic_la(cache: Path, children: int, seed: int) -> str:
    db = cache / f"la-{children}-{seed}.db"
    if db.exists():
        print(f"synthetic LA: reusing {db}")
        return f"sqlite:///{db}"
    cache.mkdir(parents=True, exist_ok=True)
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    summary = write_case_management_db(
        f"sqlite:///{partial}", SynthOptions(children=children, seed=seed)
    )
    took = time.perf_counter() - started
    partial.rename(db)
    print(
        f"synthetic LA: {children:,} children, {summary.total:,} rows in {took:.1f}s "
        f"({summary.total / took:,.0f} rows/s); {len(summary.bad)} bad rows on purpose"
    )
    return f"sqlite:///{db}"


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Remove every topic this run created (as the test harness's Namespace does)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine, timeout_ms=30_000)
    finally:
        admin.close()
    print(f"deleted the {len(mine)} topics of {prefix}*")


def create_topics(bootstrap: str, prefix: str) -> None:
    types = [t for t in default_catalogue().event_types() if t.split(".")[0] in DOMAINS]
    names = [topics.source_topic(*t.split(".", 1), prefix) for t in types]
    names.append(topics.dlq_topic("connector", prefix))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        for name in names:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, 4, 1)])
        poll(
            lambda: all(
                p["leader_id"] >= 0 for t in admin.describe_topics(names) for p in t["partitions"]
            ),
            60,
            "partition leaders",
        )
    finally:
        admin.close()


def settings(url: str, bootstrap: str, prefix: str, state: Path, batch: int, **more) -> dict:
    return {
        "connector": "case_management",
        "name": more.pop("name", "bench"),
        "source_url": url,
        "source_system": "LIQUIDLOGIC_LCS",
        "la_code": "999",
        "kafka_bootstrap": bootstrap,
        "topic_prefix": prefix,
        "state_dir": str(state),
        "batch_size": batch,
        "tables": "all",
        "mode": "snapshot",
        **more,
    }


def stages(url: str, batch: int, per_table: int) -> None:
    """Each stage alone on the first ``per_table`` rows of every table, in CPU us per event."""
    codec = Codec()
    connectors: list[CaseManagementConnector] = []
    for table in TABLE_NAMES:
        raw = settings(url, "unused:9092", "", Path(tempfile.gettempdir()), batch, tables=table)
        conn = registry.parse(raw)
        assert isinstance(conn, CaseManagementConnector)
        connectors.append(conn)
    cpu = [0.0, 0.0, 0.0]  # read+lookups, map, encode
    read = n = 0
    with fewer_collections():
        for conn in connectors:
            position, done = None, 0
            while done < per_table:
                t0 = time.process_time()
                found = conn.reader.read(position, min(batch, per_table - done))
                if found is None:
                    break
                works, position, count = found
                t1 = time.process_time()
                items = [i for w in works for i in conn.map_work(w)]
                t2 = time.process_time()
                encoded = [
                    codec.encode(i.event_type, i.record) for i in items if isinstance(i, Mapped)
                ]
                t3 = time.process_time()
                for i, took in enumerate((t1 - t0, t2 - t1, t3 - t2)):
                    cpu[i] += took
                done += count
                n += len(encoded)
            read += done
    print(
        f"stages over {read:,} records ({per_table:,} or fewer of each table) / {n:,} events, "
        f"CPU microseconds per event: read+lookups {cpu[0] / n * 1e6:.1f}, "
        f"map {cpu[1] / n * 1e6:.1f}, encode {cpu[2] / n * 1e6:.1f}; "
        f"together {sum(cpu) / n * 1e6:.1f} = {n / sum(cpu):,.0f} events per CPU-second"
    )
    for conn in connectors:
        conn.close()


def run_in_process(raw: dict, profile: bool) -> tuple[int, float]:
    runner = ConnectorRunner(registry.parse(raw))
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    try:
        if profiler:
            profiler.enable()
        stats = runner.run(until_idle=True)
        if profiler:
            profiler.disable()
    finally:
        runner.close()
    cpu = time.process_time() - cpu
    print(
        f"CPU: {cpu:.1f}s for {stats.published:,} events = {stats.published / cpu:,.0f} events "
        "per CPU-second (all of this process's threads; a figure other load does not change)"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        print(out.getvalue())
    print(f"dead-lettered {stats.dead_lettered}, retries {stats.retries}")
    return stats.published, stats.seconds


def _shards(url: str, n: int) -> list[list[str]]:
    """Tables split into ``n`` groups of about equal rows (largest first, to the lightest)."""
    engine = create_engine(url)
    with engine.connect() as c:
        sizes = {
            t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in ssd.metadata.sorted_tables
            if t.name in TABLE_NAMES
        }
    engine.dispose()
    groups: list[list[str]] = [[] for _ in range(n)]
    weight = [0] * n
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        i = weight.index(min(weight))
        groups[i].append(name)
        weight[i] += size
    return [g for g in groups if g]


def run_in_processes(raw: dict, n: int, state: Path) -> tuple[int, float]:
    configs = []
    for i, tables in enumerate(_shards(raw["source_url"], n)):
        path = state / f"shard{i}.yaml"
        path.write_text(yaml.safe_dump({**raw, "name": f"bench{i}", "tables": ",".join(tables)}))
        configs.append(path)
    env = dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "deploy", "connector", "run", str(c), "--until-idle"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for c in configs
    ]
    codes = [p.wait() for p in procs]
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if any(codes):
        raise SystemExit(f"a connector process failed: exit codes {codes}")
    published = sum(
        json.loads((state / f"bench{i}.status.json").read_text())["published"]
        for i in range(len(configs))
    )
    print(
        f"CPU: {cpu:.1f}s over the {len(configs)} processes for {published:,} events = "
        f"{published / cpu:,.0f} events per CPU-second"
    )
    return published, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chorus-bench"
    )
    parser.add_argument("--stages", action="store_true", help="also time each stage alone")
    parser.add_argument("--profile", action="store_true", help="print the run's top costs")
    parser.add_argument("--processes", type=int, default=1, help="shard tables over N processes")
    args = parser.parse_args()
    stack = Stack(
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        opa_url=os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181",
    )
    problem = wait_for_stack(stack, 10)
    if problem:
        raise SystemExit(f"{problem}: run `chorus stack up` first")
    url = synthetic_la(args.cache_dir, args.children, args.seed)
    if args.stages:
        stages(url, args.batch_size, 10_000)
    prefix = f"bench{int(time.time())}."
    state = Path(tempfile.mkdtemp(prefix="chorus-bench-state-"))
    raw = settings(url, stack.bootstrap, prefix, state, args.batch_size)
    try:
        create_topics(stack.bootstrap, prefix)
        if args.processes > 1:
            published, seconds = run_in_processes(raw, args.processes, state)
            how = f"{args.processes} processes, tables sharded"
        else:
            published, seconds = run_in_process(raw, args.profile)
            how = "one process"
    finally:
        shutil.rmtree(state, ignore_errors=True)
        delete_topics(stack.bootstrap, prefix)
    print(
        f"connector: {published:,} events in {seconds:.1f}s = {published / seconds:,.0f} events/s "
        f"({how}; SQLite -> Kafka, acks=all, batch {args.batch_size:,})"
    )


if __name__ == "__main__":
    main()
