"""`chorus worker`: run the stream processors (identity, gatekeeper, aggregates) in a worker."""

from __future__ import annotations

from pathlib import Path

from deploy.commands.common import UserError
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from streams.settings import POLICY_MODES, ROLES, WorkerSettings


def run_worker(settings: WorkerSettings, loglevel: str = "info") -> None:
    from faust.worker import Worker  # imported here: faust is slow to import

    from streams.app import create_app
    from streams.internal_topics import ensure_internal_topics

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    ensure_internal_topics(app, settings.bootstrap_servers, settings.kafka_security)
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()


def worker_settings(
    *,
    app_id: str,
    bootstrap: str,
    opa_url: str,
    key: bytes,
    state_dir: Path,
    publish_interval_s: float,
    web_port: int,
    web_host: str = WorkerSettings.web_host,
    topic_prefix: str = "",
    roles: tuple[str, ...] = ROLES,
    decision_cache: bool = True,
    policy_mode: str = "opa",
    gatekeeper_batch: int = WorkerSettings.gatekeeper_batch,
    production: bool = False,
    kafka_security: KafkaSecurity = UNAUTHENTICATED,
) -> WorkerSettings:
    problems = []
    if policy_mode not in POLICY_MODES:
        problems.append(f"--policy-mode {policy_mode!r}: use one of {', '.join(POLICY_MODES)}")
    elif policy_mode == "bypass" and production:
        problems.append(
            "--policy-mode bypass shares without asking the policy and is for benchmarks only; "
            "it is refused in production mode (CHORUS_MODE=production)"
        )
    if gatekeeper_batch < 1:
        problems.append(f"--gatekeeper-batch {gatekeeper_batch}: must be at least 1")
    if problems:
        raise UserError("; ".join(problems))
    return WorkerSettings(
        app_id=app_id,
        bootstrap_servers=bootstrap,
        opa_url=opa_url,
        pseudonym_key=key,
        state_dir=state_dir,
        publish_interval_s=publish_interval_s,
        web_port=web_port,
        web_host=web_host,
        topic_prefix=topic_prefix,
        roles=roles,
        decision_cache=decision_cache,
        policy_mode=policy_mode,
        gatekeeper_batch=gatekeeper_batch,
        kafka_security=kafka_security,
    )


def worker_command(
    python: str,
    app_id: str,
    publish_interval_s: float,
    web_port: int,
    *extra: str,
) -> list[str]:
    """The command line that starts `chorus worker` with this Python (used by demo and tests).

    `extra` are further worker options, e.g. ``"--roles", "gatekeeper"``.
    """
    return [
        python,
        "-m",
        "deploy",
        "worker",
        "--app-id",
        app_id,
        "--publish-interval",
        str(publish_interval_s),
        "--web-port",
        str(web_port),
        *extra,
    ]
