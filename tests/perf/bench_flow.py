"""Benchmark: events per second through the referral flow on the real local stack.

    .venv/bin/chorus stack up
    .venv/bin/python -m tests.perf.bench_flow --children 20000

Writes a synthetic LA, publishes its referrals with the connector (timed), then
starts a worker and waits until the aggregate holds exactly the source counts.
Rates come from Kafka's own message timestamps: the gatekeeper's rate from the
first to the last shared event, the whole flow from the first shared event to
the last cell-table update, so worker start-up is not counted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from schemas import topics
from tests.integration.flow import connector, source_counts, synthetic_la
from tests.integration.harness import Stack, wait_for_stack

AGG = "referrals_by_source"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    stack = Stack(
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        opa_url=os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181",
    )
    problem = wait_for_stack(stack, 10)
    if problem:
        raise SystemExit(f"{problem}: run `chorus stack up` first")
    ns = stack.namespace()
    tmp = Path(tempfile.mkdtemp(prefix="chorus-bench-"))
    try:
        db = tmp / "cm.db"
        t0 = time.perf_counter()
        url = synthetic_la(db, args.children, args.seed)
        print(f"synthetic LA: {args.children} children in {time.perf_counter() - t0:.1f}s")
        conn = connector(ns, url, tmp / "connectors", batch_size=5000)
        stats = conn.run(until_idle=True)
        conn.close()
        print(
            f"connector: {stats.published} referrals in {stats.seconds:.2f}s "
            f"= {stats.published / stats.seconds:,.0f} events/s (SQLite -> Kafka, acks=all)"
        )
        counts = dict(source_counts(db))
        ns.start_worker("bench", tmp / "worker.log", publish_interval=2.0)
        started = time.perf_counter()
        ns.poll(lambda: ns.raw_counts("bench", AGG) == counts, 900, "exact counts")
        took = time.perf_counter() - started
        print(f"worker: start to exact counts {took:.1f}s (includes start-up)")
        shared = ns.read_all(topics.share_topic("strategic_reporting", "referral", ns.prefix))
        facts = ns.read_all(f"{ns.app_id('bench')}-{AGG}-contributions-changelog")
        first = min(m.timestamp for m in shared)
        gate_s = (max(m.timestamp for m in shared) - first) / 1000
        flow_s = (max(m.timestamp for m in facts) - first) / 1000
        n = len(shared)
        print(f"gatekeeper: {n} events in {gate_s:.2f}s = {n / gate_s:,.0f} events/s (OPA, cached)")
        print(f"flow: {n} events shared and counted in {flow_s:.2f}s = {n / flow_s:,.0f} events/s")
    finally:
        ns.stop_processes()
        ns.delete_topics()


if __name__ == "__main__":
    main()
