"""`chorus worker`: run the stream processors (gatekeeper and aggregates) in one faust worker."""

from __future__ import annotations

from pathlib import Path

from streams.settings import ROLES, WorkerSettings


def run_worker(settings: WorkerSettings, loglevel: str = "info") -> None:
    from faust.worker import Worker  # imported here: faust is slow to import

    from streams.app import create_app

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
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
    topic_prefix: str = "",
    roles: tuple[str, ...] = ROLES,
) -> WorkerSettings:
    return WorkerSettings(
        app_id=app_id,
        bootstrap_servers=bootstrap,
        opa_url=opa_url,
        pseudonym_key=key,
        state_dir=state_dir,
        publish_interval_s=publish_interval_s,
        web_port=web_port,
        topic_prefix=topic_prefix,
        roles=roles,
    )


def worker_command(python: str, app_id: str, publish_interval_s: float, web_port: int) -> list[str]:
    """The command line that starts `chorus worker` with this Python (used by demo and tests)."""
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
    ]
