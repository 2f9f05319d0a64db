"""`chorus dashboard`: serve a live web page of the aggregates' published cells."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from schemas import topics

DESCRIPTION = """\
Serves a web page that shows every aggregate's published cells live: it reads
each chorus.agg.* topic from the beginning (keeping the latest cell per key; a
tombstone removes a cell) and pushes every change to the open pages through
server-sent events. Nothing is fetched from the internet and there is no build
step: the page is plain HTML, CSS and JavaScript drawing SVG.

The page shows the care leavers' ratings (the young person's and the personal
adviser's side by side, with the young people's statements on hover), early
help Voice Note and re-referral, early years communication, participation and
missing voices, the information map and referrals by source. Suppressed values
are shown as suppressed with the reason on hover, never as zero, and the time
of the last publication is shown. Every chart is keyboard navigable, labelled,
and has a table view.

Endpoints: / (the page), /events (server-sent events), /cells (JSON snapshot),
/metrics (Prometheus), /health (200 when the Kafka consumer is assigned and
polling, 503 otherwise; JSON).
"""


def add_parser(sub: Any) -> None:
    """The `dashboard` command (deploy/cli.py calls this)."""
    p = sub.add_parser(
        "dashboard",
        help="serve a live web page of the aggregates (SSE, /metrics, /health)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument(
        "--aggregates",
        default=",".join(topics.AGGREGATES),
        help="comma-separated aggregates to show (default all)",
    )


def run(args: argparse.Namespace, env: Any) -> int:
    """Run `chorus dashboard` until interrupted; returns the exit code."""
    from deploy.commands.common import UserError, bootstrap, kafka_security
    from deploy.dashboard.feed import Feed
    from deploy.dashboard.server import serve

    names = tuple(n.strip() for n in args.aggregates.split(",") if n.strip())
    unknown = sorted(set(names) - set(topics.AGGREGATES))
    if unknown or not names:
        raise UserError(
            f"--aggregates: unknown {', '.join(unknown) or '(none given)'}; "
            f"use some of {', '.join(topics.AGGREGATES)}"
        )
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port}: use a port from 0 to 65535")
    feed = Feed(
        bootstrap(env),
        names,
        prefix=env.get("CHORUS_TOPIC_PREFIX"),
        security=kafka_security(env),
    )
    with contextlib.suppress(KeyboardInterrupt):
        serve(feed, args.host, args.port)
    return 0
