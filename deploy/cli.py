"""The `chorus` command. The only place that reads the environment."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from deploy.environment import EnvError, Environment, env_help

EXIT_USER_ERROR = 2
EXIT_NOT_RUNNING = 3  # `chorus stack status`: something is not running


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="chorus",
        description="Chorus: purpose-limited sharing and live, voice-carrying aggregates "
        "for children's services, on Kafka and OPA.",
        epilog=env_help(),
        formatter_class=fmt,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stack = sub.add_parser(
        "stack",
        help="the local Kafka + OPA stack (no Docker)",
        epilog=env_help(),
        formatter_class=fmt,
    )
    ssub = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    ssub.add_parser(
        "up", help="install (cached), start and health-check Kafka and OPA; create topics"
    )
    ssub.add_parser("down", help="stop exactly the processes `up` started")
    ssub.add_parser("status", help="show what runs where; exit code 3 when something is stopped")
    ssub.add_parser("install", help="fetch the Kafka jars and build OPA, without starting them")

    from deploy.commands import synth as synth_commands

    synth_commands.add_parser(sub)

    from deploy.commands import connector as connector_commands

    connector_commands.add_parser(sub)

    from deploy.commands import policy as policy_commands

    policy_commands.add_parser(sub)

    from deploy.commands import ledger as ledger_commands

    ledger_commands.add_parser(sub)

    from deploy.commands import access as access_commands

    access_commands.add_parser(sub)

    worker = sub.add_parser(
        "worker",
        help="run the stream processors: identity linkage, gatekeeper and aggregates",
        epilog=env_help(),
        formatter_class=fmt,
    )
    worker.add_argument(
        "--app-id",
        default="chorus-streams",
        help="faust application id (consumer group and table names)",
    )
    worker.add_argument(
        "--publish-interval", type=float, default=5.0, help="seconds between aggregate publications"
    )
    worker.add_argument(
        "--web-port",
        type=int,
        default=6066,
        help="port of the worker's web server (0: any free port)",
    )
    worker.add_argument(
        "--web-host",
        default="127.0.0.1",
        help="address of the worker's web server (/metrics, /health; default 127.0.0.1, "
        "0.0.0.0 in a container, so that Prometheus can scrape it)",
    )
    worker.add_argument(
        "--roles",
        default="identity,gatekeeper,aggregates",
        help="comma-separated processors to run (default all). Identity linkage must see every "
        "source partition: in production run it in one worker with its own --app-id, and scale "
        "out workers with --roles gatekeeper,aggregates",
    )
    worker.add_argument(
        "--no-decision-cache",
        dest="decision_cache",
        action="store_false",
        help="ask OPA for every decision (to measure what the cache saves)",
    )
    worker.add_argument(
        "--policy-mode",
        default="opa",
        choices=("opa", "bypass"),
        help="opa (default). bypass: BENCHMARK ONLY, the policy is not asked per event "
        "(refused when CHORUS_MODE=production)",
    )
    worker.add_argument(
        "--gatekeeper-batch",
        type=int,
        default=500,
        help="events the gatekeeper takes at a time (default 500)",
    )
    worker.add_argument("--loglevel", default="info", help="log level")

    from deploy.commands import agg as agg_commands

    agg_commands.add_parser(sub)

    from deploy.commands import deploy_render

    deploy_render.add_parser(sub)

    from deploy.commands import dashboard as dashboard_commands

    dashboard_commands.add_parser(sub)

    schemas = sub.add_parser(
        "schemas", help="the event contract: compatibility, releases, dictionary"
    )
    chsub = schemas.add_subparsers(dest="action", required=True, metavar="ACTION")
    chsub.add_parser(
        "check",
        help="fail when a schema cannot read a released version, is unreleased, "
        "or the dictionary is stale",
    )
    chsub.add_parser(
        "lock", help="release every new, compatible schema version into schemas/lock.json"
    )
    chsub.add_parser("dictionary", help="write schemas/DICTIONARY.md from the schemas' docs")

    demo = sub.add_parser(
        "demo", help="stack up, synthetic LA, connector, worker; show aggregate cells arriving"
    )
    demo.add_argument("--children", type=int, default=20000, help="size of the synthetic LA")
    demo.add_argument("--seed", type=int, default=1, help="random seed")
    demo.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="stop showing cells after this many quiet seconds",
    )
    return p


def _stack(args: argparse.Namespace, env: Environment) -> int:
    from deploy.commands.common import stack_settings
    from deploy.local import stack

    settings = stack_settings(env)
    if args.action == "up":
        stack.up(settings)
    elif args.action == "down":
        stack.down(settings)
    elif args.action == "install":
        stack.install(settings)
    else:
        services = stack.status(settings)
        for s in services:
            state = f"running pid {s.pid}" if s.running else "stopped"
            print(f"{s.name:<6} {state:<20} {s.address:<28} {s.detail}")
        return 0 if all(s.running for s in services) else EXIT_NOT_RUNNING
    return 0


def _worker(args: argparse.Namespace, env: Environment) -> None:
    from deploy.commands.common import bootstrap, kafka_security, opa_url
    from deploy.commands.worker import run_worker, worker_settings
    from deploy.secrets import pseudonym_key

    settings = worker_settings(
        app_id=args.app_id,
        bootstrap=bootstrap(env),
        opa_url=opa_url(env),
        key=pseudonym_key(env),
        state_dir=env.path("CHORUS_HOME").resolve() / "worker" / args.app_id,
        publish_interval_s=args.publish_interval,
        web_port=args.web_port,
        web_host=args.web_host,
        topic_prefix=env.get("CHORUS_TOPIC_PREFIX"),
        roles=_roles(args.roles),
        decision_cache=args.decision_cache,
        policy_mode=args.policy_mode,
        gatekeeper_batch=args.gatekeeper_batch,
        production=env.get("CHORUS_MODE") == "production",
        kafka_security=kafka_security(env),
    )
    run_worker(settings, args.loglevel)


def _roles(text: str) -> tuple[str, ...]:
    from deploy.commands.common import UserError
    from streams.settings import ROLES

    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise UserError(f"--roles: unknown {', '.join(unknown) or '(none given)'}; use {ROLES}")
    return roles


def dispatch(args: argparse.Namespace, env: Environment) -> int | None:
    """Run the command; returns the exit code."""
    from deploy.commands.common import bootstrap

    if args.command == "stack":
        return _stack(args, env)
    if args.command == "schemas":
        from deploy.commands import schemas as schema_commands

        actions = {
            "check": schema_commands.run_check,
            "lock": schema_commands.run_lock,
            "dictionary": schema_commands.run_dictionary,
        }
        return actions[args.action]()
    elif args.command == "synth":
        from deploy.commands import synth as synth_commands

        return synth_commands.run(args)
    elif args.command == "policy":
        from deploy.commands import policy as policy_commands
        from deploy.commands.common import opa_url
        from deploy.local.opa import binary_path

        return policy_commands.run(args, opa_url(env), binary_path(env.path("CHORUS_CACHE")), env)
    elif args.command == "connector":
        from deploy.commands import connector as connector_commands

        return connector_commands.run(args, env)
    elif args.command == "ledger":
        from deploy.commands import ledger as ledger_commands

        return ledger_commands.run(args, env)
    elif args.command == "access":
        from deploy.commands import access as access_commands

        return access_commands.run(args, env)
    elif args.command == "worker":
        _worker(args, env)
    elif args.command == "agg":
        from deploy.commands import agg as agg_commands

        return agg_commands.run(args, env)
    elif args.command == "deploy":
        from deploy.commands import deploy_render

        return deploy_render.run(args)
    elif args.command == "dashboard":
        from deploy.commands import dashboard as dashboard_commands

        return dashboard_commands.run(args, env)
    elif args.command == "demo":
        from deploy.commands.common import stack_settings
        from deploy.commands.demo import demo_kafka_user, run_demo
        from deploy.local import stack
        from deploy.local.kafka import ensure_topics
        from deploy.topic_plan import planned_topics

        if not env.get("CHORUS_KAFKA_BOOTSTRAP"):
            stack.up(stack_settings(env))
        prefix = env.get("CHORUS_TOPIC_PREFIX")
        user = demo_kafka_user(env)
        ensure_topics(bootstrap(env), planned_topics(prefix), security=user.security)
        run_demo(
            env.path("CHORUS_HOME").resolve(),
            bootstrap(env),
            args.children,
            args.seed,
            args.settle,
            prefix,
            user,
        )
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = Environment(dict(os.environ if environ is None else environ))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO lines are per connection
    # SCRAM over SASL_PLAINTEXT (the local stack, loopback only) warns on every connection.
    logging.getLogger("kafka.net.sasl").setLevel(logging.ERROR)
    try:
        return dispatch(args, env) or 0
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        print(f"chorus: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _is_user_error(exc: Exception) -> bool:
    """Errors the user can fix print as one line; anything else is a bug and keeps its traceback."""
    from connectors.common.settings import ConfigError
    from deploy.commands.common import UserError
    from deploy.secrets import SecretError

    user_errors: tuple[type[Exception], ...] = (ConfigError, EnvError, SecretError, UserError)
    if isinstance(exc, user_errors):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"StackError", "SynthError"})
