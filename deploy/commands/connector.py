"""`chorus connector check|run|status CONFIG`: what integration teams do with a connector."""

from __future__ import annotations

import argparse
import functools
import json
import signal
import threading
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.common.runner import ConnectorRunner
from deploy.environment import Environment
from deploy.observability import add_metrics_host_argument

EXIT_OK, EXIT_PROBLEMS = 0, 1
STALE_AFTER_S = 120.0  # /health says 503 when nothing succeeded for this long


def add_parser(sub: Any) -> None:
    conn = sub.add_parser(
        "connector",
        help="check, run or inspect a connector",
        description="Kinds of connector (the `connector:` setting): "
        + "; ".join(f"{k}: {registry.connector_class(k).description}" for k in registry.KINDS),
    )
    csub = conn.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = csub.add_parser(
        "check",
        help="report every configuration problem at once, then test the source and Kafka",
    )
    check.add_argument("config", type=Path, help="connector configuration (YAML)")
    run = csub.add_parser(
        "run", help="publish source records to Kafka, continuing from the stored position"
    )
    run.add_argument("config", type=Path, help="connector configuration (YAML)")
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="stop when there is nothing new instead of polling",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="serve Prometheus /metrics and /health on this port (0: none)",
    )
    add_metrics_host_argument(run)
    status = csub.add_parser(
        "status", help="show the stored position, the lag and the counts of records and errors"
    )
    status.add_argument("config", type=Path, help="connector configuration (YAML)")
    status.add_argument("--json", action="store_true", help="print as JSON")


KAFKA_USER_VARIABLES = {
    "CHORUS_KAFKA_USERNAME": "kafka_username",
    "CHORUS_KAFKA_PASSWORD_FILE": "kafka_password_file",
    "CHORUS_KAFKA_SECURITY_PROTOCOL": "kafka_security_protocol",
    "CHORUS_KAFKA_CA_FILE": "kafka_ca_file",
}


def overrides(env: Environment) -> dict[str, str]:
    """Environment settings that win over the file (the same file runs in several places)."""
    out: dict[str, str] = {}
    if env.get("CHORUS_KAFKA_BOOTSTRAP"):
        out["kafka_bootstrap"] = env.get("CHORUS_KAFKA_BOOTSTRAP")
    if env.get("CHORUS_TOPIC_PREFIX"):
        out["topic_prefix"] = env.get("CHORUS_TOPIC_PREFIX")
    for variable, setting in KAFKA_USER_VARIABLES.items():
        if env.get(variable):
            out[setting] = env.get(variable)
    return out


def run(args: argparse.Namespace, env: Environment) -> int:
    if args.action == "check":
        problems = registry.check(args.config, overrides(env))
        for p in problems:
            print(f"{args.config}: {p}")
        if not problems:
            print(f"{args.config}: configuration valid; source and Kafka reachable")
        return EXIT_PROBLEMS if problems else EXIT_OK
    runner = ConnectorRunner(registry.load(args.config, overrides(env)))
    try:
        if args.action == "status":
            _print_status(runner.status(), args.json)
            return EXIT_OK
        return _run(runner, args)
    finally:
        runner.close()


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(status, sort_keys=True))
        return
    print(f"position: {status['position'] or 'none (starts from the beginning)'}")
    print(f"lag: {status['lag']} source records not yet published")
    for name in ("read", "published", "dead_lettered", "retries", "last_success"):
        print(f"{name.replace('_', ' ')}: {status.get(name, 0 if name != 'last_success' else '-')}")
    for rule, n in sorted(status.get("dead_lettered_by_rule", {}).items()):
        print(f"  dead-lettered by {rule}: {n}")


def _run(runner: ConnectorRunner, args: argparse.Namespace) -> int:
    endpoint = None
    if args.metrics_port:
        from connectors.common import metrics
        from deploy.observability import serve

        stale_after_s = max(STALE_AFTER_S, 5 * runner.poll_interval_s)
        health = functools.partial(metrics.health, runner.name, stale_after_s)
        endpoint = serve(args.metrics_port, health, args.metrics_host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stats = runner.run(stop, until_idle=args.until_idle)
    finally:
        if endpoint is not None:
            endpoint.close()
    print(
        f"read {stats.read}, published {stats.published}, "
        f"dead-lettered {stats.dead_lettered}, retries {stats.retries} in {stats.seconds:.1f}s"
    )
    return EXIT_OK
