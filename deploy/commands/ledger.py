"""`chorus ledger sink|person`: the ledger in SQL, and where one child's information went.

- ``sink`` copies every decision on chorus.ledger into a SQL table (SQLite by
  default, any SQLAlchemy URL), without loss and without duplicates;
- ``person`` says in plain English, for a subject access request, every decision
  about one child: found from an NHS number, a UPN, an LA code and LA child id
  (through the identity register) or a ledger pseudonym. It never prints the
  identifier in full.
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from typing import Any

from deploy.commands.common import REPO_ROOT, UserError, bootstrap, kafka_security
from deploy.environment import Environment
from deploy.observability import add_metrics_host_argument

log = logging.getLogger(__name__)
DEFAULT_GROUP = "chorus-ledger-sink"
DEFAULT_IDENTITY_APP_ID = "chorus-streams"
DATA_DIR = REPO_ROOT / "policies" / "data"


def default_db_url(env: Environment) -> str:
    return f"sqlite:///{env.path('CHORUS_HOME').resolve() / 'ledger.db'}"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `ledger sink` and `ledger person` to the `chorus` command's subparsers."""
    ledger = subparsers.add_parser(
        "ledger", help="the sharing ledger in SQL, and where one child's information went"
    )
    lsub = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    sink = lsub.add_parser(
        "sink",
        help="copy every decision on chorus.ledger into a SQL table (no loss, no duplicates)",
    )
    sink.add_argument(
        "--db", default=None, help="SQLAlchemy URL (default sqlite:///$CHORUS_HOME/ledger.db)"
    )
    sink.add_argument(
        "--until-idle", action="store_true", help="stop once the topic has been read to its end"
    )
    sink.add_argument(
        "--group",
        default=None,
        help=f"Kafka consumer group (default {DEFAULT_GROUP}, after the topic prefix)",
    )
    sink.add_argument(
        "--batch-size", type=int, default=1000, help="most entries per database transaction"
    )
    sink.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="serve Prometheus /metrics and /health on this port (0: none)",
    )
    add_metrics_host_argument(sink)
    person = lsub.add_parser(
        "person",
        help="say in plain English where one child's information went, and why",
    )
    person.add_argument(
        "identifier",
        help="NHS number, UPN, LA code and LA child id as 999:C0000001, or a ledger pseudonym",
    )
    person.add_argument("--db", default=None, help="the sink's SQLAlchemy URL")
    person.add_argument(
        "--identity-app-id",
        default=DEFAULT_IDENTITY_APP_ID,
        help="app id of the worker running identity linkage (its register's changelogs)",
    )
    person.add_argument(
        "--policies",
        type=Path,
        default=DATA_DIR,
        help="folder with recipients.yaml and purposes.yaml, for their titles",
    )
    return ledger


def run(args: argparse.Namespace, env: Environment) -> int:
    if args.action == "sink":
        return run_sink(args, env)
    return run_person(args, env)


def run_sink(args: argparse.Namespace, env: Environment) -> int:
    from deploy.observability import serve
    from schemas.topics import ledger_topic
    from streams.ledger.sink import LedgerSink, SinkSettings

    if args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: must be at least 1")
    prefix = env.get("CHORUS_TOPIC_PREFIX")
    settings = SinkSettings(
        bootstrap_servers=bootstrap(env),
        db_url=args.db or default_db_url(env),
        topic=ledger_topic(prefix),
        group_id=args.group or f"{prefix}{DEFAULT_GROUP}",
        batch_size=args.batch_size,
        kafka_security=kafka_security(env),
    )
    stopping = []

    def stop(signum, _frame) -> None:
        log.info("ledger sink: signal %d, stopping after this batch", signum)
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sink = LedgerSink(settings)
    endpoint = serve(args.metrics_port, sink.probe.health, args.metrics_host)
    try:
        stats = sink.run(
            until_idle=args.until_idle,
            should_stop=lambda: bool(stopping),
            progress=lambda s: log.info("ledger sink: %d entries read so far", s.read),
        )
    finally:
        if endpoint is not None:
            endpoint.close()
        sink.close()
    print(
        f"ledger sink: read {stats.read} entries from {settings.topic} in {stats.batches} "
        f"transactions ({stats.rejected} not ledger entries, kept aside) in {stats.seconds:.1f}s"
    )
    return 0


def run_person(args: argparse.Namespace, env: Environment) -> int:
    import yaml
    from sqlalchemy import create_engine, inspect, select

    from deploy.secrets import pseudonym_key
    from streams.ledger import person
    from streams.ledger.story import story
    from streams.ledger.table import LEDGER
    from streams.pseudonyms import Pseudonymiser

    try:
        ident = person.parse_identifier(args.identifier)
    except person.IdentifierError as exc:
        raise UserError(str(exc)) from None
    db_url = args.db or default_db_url(env)
    engine = create_engine(db_url)
    try:
        if not inspect(engine).has_table(LEDGER.name):
            raise UserError(
                f"no ledger table in {engine.url.render_as_string(hide_password=True)}; "
                "run `chorus ledger sink --until-idle` first (or give --db)"
            )
        pseudonymiser = Pseudonymiser(pseudonym_key(env))
        if ident.is_pseudonym:
            refs = {ident.value}
        else:
            try:
                register = person.load_register(
                    bootstrap(env), args.identity_app_id, kafka_security(env)
                )
            except LookupError as exc:
                raise UserError(str(exc)) from None
            keys = person.person_keys(register, pseudonymiser, ident)
            if not keys:
                print(f"The identity register does not know the child with {ident.label}.")
                return 0
            refs = person.ledger_refs(pseudonymiser, keys)
        with engine.connect() as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(select(LEDGER).where(LEDGER.c.subject_ref.in_(sorted(refs))))
            ]
    finally:
        engine.dispose()
    titles = {}
    for name in ("recipients", "purposes"):
        path = args.policies / f"{name}.yaml"
        try:
            titles[name] = yaml.safe_load(path.read_text(encoding="utf-8"))[name]
        except (OSError, KeyError, TypeError, yaml.YAMLError):
            raise UserError(f"cannot read {name} from {path}; give --policies") from None
    for line in story(rows, ident.label, titles["recipients"], titles["purposes"]):
        print(line)
    return 0
