"""`chorus agg tail|list|rebuild|sink`: read, recompute and store the live aggregates.

- ``tail NAME``: print an aggregate's published cells as a table as they arrive.
- ``list``: the aggregates, their tables, dimensions and measures.
- ``rebuild NAME``: recompute an aggregate from the log and publish it afresh
  (``--dry-run`` to only report; ``--reset-app APP_ID`` to also make that app's
  stopped workers recompute their live tables from the log when they start).
- ``sink``: keep the latest cell of every aggregate in SQL tables for BI tools.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from kafka import KafkaConsumer

from deploy.observability import add_metrics_host_argument
from schemas import topics
from schemas.codec import Codec
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

DEFAULT_SINK_URL = "sqlite:///.chorus/aggregates.db"


def format_cell(cell: dict[str, Any]) -> str:
    dims = "  ".join(f"{v:<8}" for v in cell["dimensions"].values())
    parts = []
    for m in cell["measures"]:
        if m["status"] == "SUPPRESSED":
            shown = "suppressed"
        elif m.get("kind") in ("MEAN",):
            shown = f"{m['value']:.1f}"
        elif m.get("kind") == "RATE":
            shown = f"{m['value']:.0f}%"
        else:
            shown = f"{m['value']:.0f}"
        parts.append(f"{m['name']}={shown:<10}")
    if cell.get("statements"):
        parts.append(f"statements={len(cell['statements'])}")
    published = cell["publication"]["published_at"].astimezone(dt.UTC).strftime("%H:%M:%S")
    return f"{dims}  {'  '.join(parts)}  published {published}"


def tail(
    bootstrap: str,
    name: str,
    idle_timeout_s: float | None = None,
    out: TextIO = sys.stdout,
    on_cell: Callable[[dict[str, Any]], None] | None = None,
    prefix: str = "",
    security: KafkaSecurity = UNAUTHENTICATED,
) -> dict[str, dict[str, Any]]:
    """Read chorus.agg.<name> from the beginning; return the latest cell per key when idle."""
    topic = topics.agg_topic(name, prefix)
    codec = Codec()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
        **security.kafka_python(),
    )
    cells: dict[str, dict[str, Any]] = {}
    header_done: set[str | None] = set()
    last_seen = time.monotonic()
    try:
        while idle_timeout_s is None or time.monotonic() - last_seen < idle_timeout_s:
            for msg in consumer:
                if msg.value is None:
                    continue
                _, cell = codec.decode(msg.value)
                cells[cell["cell_key"]] = cell
                last_seen = time.monotonic()
                if cell.get("table") not in header_done:
                    title = f"[{cell['table']}] " if cell.get("table") else ""
                    print(title + "  ".join(f"{d:<8}" for d in cell["dimensions"]), file=out)
                    header_done.add(cell.get("table"))
                print(format_cell(cell), file=out, flush=True)
                if on_cell:
                    on_cell(cell)
    finally:
        consumer.close()
    return cells


def add_parser(sub: Any) -> None:
    """The `agg` command and its actions (deploy/cli.py calls this)."""
    agg = sub.add_parser("agg", help="read, recompute and store the live aggregates")
    asub = agg.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = asub.add_parser("tail", help="print an aggregate's cells as a table as they arrive")
    t.add_argument("name", help="aggregate name, e.g. referrals_by_source")
    t.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        help="exit after this many seconds without a new cell",
    )
    asub.add_parser("list", help="the aggregates, their tables, dimensions and measures")
    r = asub.add_parser(
        "rebuild",
        help="recompute an aggregate from the log and publish it afresh",
        description=(
            "Reads the aggregate's strategic reporting share topics (or the ledger) from the "
            "beginning, computes every cell with the stream's own code, applies the disclosure "
            "rules in force and publishes all cells as one new publication. With --reset-app, "
            "also empties that app's changelogs for the aggregate and rewinds its offsets, so its "
            "workers (stop them first) recompute their live state from the log when restarted."
        ),
    )
    r.add_argument("name", help="aggregate name, e.g. care_leavers")
    r.add_argument("--dry-run", action="store_true", help="compute and report; publish nothing")
    r.add_argument(
        "--reset-app",
        metavar="APP_ID",
        default=None,
        help="also reset the live state of this worker app id (its workers must be stopped)",
    )
    s = asub.add_parser(
        "sink", help="keep the latest cell of every aggregate in SQL tables for BI tools"
    )
    s.add_argument(
        "--url", default=DEFAULT_SINK_URL, help=f"SQLAlchemy URL (default {DEFAULT_SINK_URL})"
    )
    s.add_argument("--group-id", default="chorus-agg-sink", help="Kafka consumer group")
    s.add_argument(
        "--aggregates",
        default=",".join(topics.AGGREGATES),
        help="comma-separated aggregates to store (default all)",
    )
    s.add_argument(
        "--until-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds without a new cell (default: run until stopped)",
    )
    s.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="serve Prometheus /metrics and /health on this port (0: none)",
    )
    add_metrics_host_argument(s)


def run(args: argparse.Namespace, env: Any) -> int:
    """Run `chorus agg ACTION`; returns the exit code."""
    from deploy.commands.common import bootstrap, kafka_security

    prefix = env.get("CHORUS_TOPIC_PREFIX")
    if args.action == "tail":
        with contextlib.suppress(KeyboardInterrupt):
            tail(
                bootstrap(env),
                args.name,
                idle_timeout_s=args.idle_timeout,
                prefix=prefix,
                security=kafka_security(env),
            )
        return 0
    if args.action == "list":
        return _list()
    if args.action == "rebuild":
        return _rebuild(args, env, prefix)
    return _sink(args, env, prefix)


def _list(out: TextIO = sys.stdout) -> int:
    from streams.aggregates.registry import AGGREGATES

    for spec in AGGREGATES:
        print(f"{spec.name}: {spec.doc}", file=out)
        for table in spec.tables:
            names = ", ".join(m.name for m in table.measures)
            print(f"  {table.name} by {', '.join(table.dims)}: {names}", file=out)
    return 0


def _rebuild(args: argparse.Namespace, env: Any, prefix: str) -> int:
    from deploy.commands.common import UserError, bootstrap, kafka_security, opa_url
    from deploy.secrets import pseudonym_key
    from streams.aggregates import engine, rebuild
    from streams.aggregates.registry import aggregate
    from streams.disclosure import DisclosureError, Rules
    from streams.policy_client import PolicyClient, PolicyError
    from streams.pseudonyms import Pseudonymiser

    try:
        spec = aggregate(args.name)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None

    async def rules() -> Rules:
        client = PolicyClient(opa_url(env))
        try:
            return Rules.from_policy(await client.disclosure_rules(), await client.revision())
        finally:
            await client.close()

    try:
        in_force = asyncio.run(rules())
    except (PolicyError, DisclosureError) as exc:
        raise UserError(f"no usable disclosure rules, nothing recomputed: {exc}") from None
    pseudonymiser = Pseudonymiser(pseudonym_key(env))
    if args.reset_app:
        try:
            gone = rebuild.reset_app(
                spec,
                bootstrap=bootstrap(env),
                prefix=prefix,
                app_id=args.reset_app,
                security=kafka_security(env),
            )
        except rebuild.RebuildError as exc:
            raise UserError(str(exc)) from None
        print(
            f"agg: reset {spec.name} in app {args.reset_app}: {gone} table entries removed; "
            "its workers recompute it from the log when they start"
        )
    report = rebuild.rebuild(
        spec,
        bootstrap=bootstrap(env),
        prefix=prefix,
        rules=in_force,
        record_key=lambda m: engine.record_key(pseudonymiser, spec.name, m),
        dry_run=args.dry_run,
        security=kafka_security(env),
    )
    verb = "would publish" if args.dry_run else "published"
    print(
        f"agg: {spec.name}: read {report.read} messages ({report.undecodable} undecodable), "
        f"{verb} {report.cells} cells, {report.suppressed_measures} measures suppressed"
    )
    return 0


def _sink(args: argparse.Namespace, env: Any, prefix: str) -> int:
    from deploy.commands.common import UserError, bootstrap, kafka_security
    from deploy.observability import serve
    from streams.aggregates.sql_sink import run_sink
    from streams.metrics import SinkProbe

    names = tuple(n.strip() for n in args.aggregates.split(",") if n.strip())
    unknown = sorted(set(names) - set(topics.AGGREGATES))
    if unknown or not names:
        raise UserError(
            f"--aggregates: unknown {', '.join(unknown) or '(none given)'}; "
            f"use some of {', '.join(topics.AGGREGATES)}"
        )
    probe = SinkProbe("aggregates", prefix=prefix)
    endpoint = serve(args.metrics_port, probe.health, args.metrics_host)
    with contextlib.suppress(KeyboardInterrupt):
        stats = run_sink(
            bootstrap(env),
            args.url,
            names=names,
            prefix=prefix,
            group_id=args.group_id,
            idle_timeout_s=args.until_idle,
            probe=probe,
            security=kafka_security(env).kafka_python(),
        )
        print(
            f"agg: sink wrote {stats.written} cells, deleted {stats.deleted}, "
            f"skipped {stats.skipped} replayed, from {stats.messages} messages"
        )
    if endpoint is not None:
        endpoint.close()
    return 0
