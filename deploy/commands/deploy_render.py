"""`chorus deploy render [--check]`: the compose and Kubernetes files, from the access plan."""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Any

EXIT_DRIFT = 1


def add_parser(sub: Any) -> None:
    deploy = sub.add_parser("deploy", help="production deployment files (compose, Kubernetes)")
    dsub = deploy.add_subparsers(dest="action", required=True, metavar="ACTION")
    render = dsub.add_parser(
        "render",
        help="write deploy/compose and deploy/k8s from the access plan (policies/data, schemas)",
        description="Writes the docker compose and Kubernetes files whose topics, Kafka users "
        "and ACLs are those of `chorus access plan`. With --check, writes nothing and exits 1 "
        "when the files in the repository differ from what would be written.",
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="compare only; exit 1 and show the differences when the files are out of date",
    )
    render.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        help="decide which agreements are in force on this day (YYYY-MM-DD) instead of today",
    )


def run(args: argparse.Namespace) -> int:
    from deploy.production.render import default_plan, drift, render, write

    files = render(default_plan(args.today))
    if args.check:
        problems = drift(files)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                f"chorus: {len(problems)} deployment file(s) out of date; "
                "run `chorus deploy render` and commit the result",
                file=sys.stderr,
            )
            return EXIT_DRIFT
        print(f"{len(files)} deployment files match the access plan")
        return 0
    changed = write(files)
    for rel in changed:
        print(f"wrote {rel}")
    print(f"{len(files)} deployment files, {len(changed)} changed")
    return 0
