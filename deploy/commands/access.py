"""`chorus access plan` and `chorus access apply`: Kafka ACLs from the policy data."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from deploy.access.plan import POLICY_DIR, AccessPlan, access_plan
from deploy.commands.common import UserError
from deploy.environment import Environment


def add_parser(sub: argparse._SubParsersAction) -> None:
    access = sub.add_parser(
        "access",
        help="Kafka principals and ACLs derived from policies/data (plan, apply)",
        description="Who may read and write which topics, from the policy data: connectors "
        "their source topics, the gatekeeper the share topics and the ledger, each recipient "
        "the share topics of the purposes its agreements in force allow.",
    )
    asub = access.add_subparsers(dest="action", required=True, metavar="ACTION")
    plan = asub.add_parser("plan", help="print the principals and ACLs; touches no cluster")
    plan.add_argument("--principal", help="only this principal's ACLs")
    plan.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    apply = asub.add_parser(
        "apply",
        help="make the cluster's users and ACLs match the plan; prints what changed",
        description="Creates missing SCRAM users and ACLs, deletes ACLs the plan no longer "
        "has (an expired agreement removes its recipient's reads). Running it again changes "
        "nothing. Authenticates as CHORUS_KAFKA_USERNAME, or as the local secured stack's admin.",
    )
    apply.add_argument("--dry-run", action="store_true", help="show the changes, make none")
    apply.add_argument(
        "--passwords-dir",
        type=Path,
        help="a folder with one <user>.password file per principal (the deployment's secrets); "
        "default on the local secured stack: $CHORUS_HOME/secrets/kafka, generated on first use",
    )
    apply.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="USER",
        help="set USER's password again from its file (on the local stack: a new random one); "
        "repeatable",
    )
    for p in (plan, apply):
        p.add_argument("--policy-dir", type=Path, default=POLICY_DIR, help="policy data folder")
        p.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            help="decide which agreements are in force on this day (YYYY-MM-DD) instead of "
            "today, e.g. to see what an agreement's expiry will remove",
        )


def run(args: argparse.Namespace, env: Environment) -> int:
    prefix = env.get("CHORUS_TOPIC_PREFIX")
    plan = access_plan(args.policy_dir, prefix, args.today)
    if args.action == "plan":
        return _print_plan(plan, args.principal, args.format)
    return _apply(args, env, plan, prefix)


def _print_plan(plan: AccessPlan, principal: str | None, fmt: str) -> int:
    principals = plan.principals
    if principal is not None:
        principals = tuple(p for p in principals if p.name == principal)
        if not principals:
            raise UserError(f"--principal {principal}: not a principal of the plan")
    if fmt == "json":
        doc = [
            {
                "name": p.name,
                "kind": p.kind,
                "description": p.description,
                "acls": [a.__dict__ for a in plan.for_principal(p.name)],
            }
            for p in principals
        ]
        print(json.dumps(doc, indent=2))
        return 0
    for p in principals:
        print(f"{p.name} ({p.kind}): {p.description}")
        for acl in plan.for_principal(p.name):
            print(f"  {acl.line()}")
    return 0


def _apply(args: argparse.Namespace, env: Environment, plan: AccessPlan, prefix: str) -> int:
    from deploy.access.apply import apply_acls
    from deploy.access.users import ensure_users
    from deploy.commands.common import admin_security, bootstrap, local_stack_secured
    from deploy.local.kafka import admin_client
    from deploy.secrets import LocalSecrets

    local = args.passwords_dir is None
    if local and not local_stack_secured(env):
        raise UserError(
            "chorus access apply needs --passwords-dir, or the local secured stack "
            "(CHORUS_KAFKA_SECURITY=sasl)"
        )
    passwords = (
        LocalSecrets.under(env.path("CHORUS_HOME").resolve())
        if local
        else LocalSecrets(args.passwords_dir)
    )
    if local and not args.dry_run:
        for name in args.rotate:
            if name in {p.name for p in plan.principals}:
                passwords.renew(name)
    with admin_client(bootstrap(env), 30.0, admin_security(env)) as admin:
        users = ensure_users(admin, plan, passwords, args.rotate, args.dry_run)
        acls = apply_acls(admin, plan, prefix, args.dry_run)
    for line in users.lines() + acls.lines():
        print(line)
    print(users.summary())
    print(("would be: " if args.dry_run else "") + acls.summary())
    return 0
