"""The local stack without Docker: a real Kafka (KRaft, one node) and a real OPA server.

``up`` installs what is missing (cached), starts what is not running, waits until both
answer and creates the catalogue topics; run it again at any time, it only checks.
``down`` stops exactly the processes ``up`` started. ``status`` says what runs.
Settings come in as arguments; the CLI reads the environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deploy.local import kafka, opa, processes, secured
from deploy.local.processes import StackError
from deploy.topic_plan import planned_topics
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

__all__ = ["ServiceStatus", "StackError", "StackSettings", "down", "install", "status", "up"]

Log = Callable[[str], None]

# The environment variable behind each port setting, for error messages only.
PORT_VARIABLES = {
    "kafka_port": "CHORUS_KAFKA_PORT",
    "controller_port": "CHORUS_KAFKA_CONTROLLER_PORT",
    "opa_port": "CHORUS_OPA_PORT",
}


@dataclass(frozen=True)
class StackSettings:
    state_dir: Path  # Kafka data, logs and PID files
    cache_dir: Path  # downloaded jars and the built OPA binary
    policies_dir: Path  # the repository's policies/ folder, served by OPA
    kafka_port: int = 9092
    controller_port: int = 9093
    opa_port: int = 8181
    start_timeout_s: float = 90.0
    # plaintext, or sasl: SCRAM users and ACLs, nothing anonymous (deploy/local/secured.py)
    security: str = "plaintext"

    @property
    def admin_security(self) -> KafkaSecurity:
        """How the stack's own administration authenticates (the admin super user)."""
        if self.security == "sasl":
            return secured.admin_security(self.state_dir)
        return UNAUTHENTICATED

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def opa_url(self) -> str:
        return f"http://127.0.0.1:{self.opa_port}"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    detail: str


def _kafka(settings: StackSettings) -> kafka.Layout:
    return kafka.Layout(settings.state_dir)


def _opa(settings: StackSettings) -> opa.Layout:
    return opa.Layout(settings.state_dir, settings.policies_dir)


def install(settings: StackSettings, log: Log = print) -> None:
    """Fetch the Kafka jars and build OPA into the cache; start nothing."""
    kafka.install(settings.cache_dir, log)
    opa.install(settings.cache_dir, log)


def up(settings: StackSettings, log: Log = print) -> None:
    """Install (cached), start what is not running, wait until ready, ensure the topics."""
    began = time.monotonic()
    libs = kafka.install(settings.cache_dir, log)
    opa_binary = opa.install(settings.cache_dir, log)
    deadline = time.monotonic() + settings.start_timeout_s
    # Both start before either is waited for, so their start-up times overlap; OPA is
    # waited for first because it is ready in well under a second.
    kafka_pid, kafka_spawned = _start_kafka(settings, libs, log)
    opa_pid, opa_spawned = _start_opa(settings, opa_binary)
    opa_ready = partial(opa.healthy, settings.opa_url)
    _wait("opa", _opa(settings), opa_pid, opa_spawned, opa_ready, deadline, log)
    kafka_ready = partial(
        kafka.answers, settings.bootstrap_servers, security=settings.admin_security
    )
    _wait("kafka", _kafka(settings), kafka_pid, kafka_spawned, kafka_ready, deadline, log)
    _ensure_topics(settings, log)
    if settings.security == "sasl":
        _apply_access(settings, log)
    log(f"stack: up in {time.monotonic() - began:.1f} s")


# The _start_* functions return the PID and when it was started (time.monotonic()),
# or None for that time when it was already running.


def _start_kafka(settings: StackSettings, libs: Path, log: Log) -> tuple[int, float | None]:
    layout = _kafka(settings)
    pid = _running(layout.pid_file, layout.markers)
    if pid is not None:
        return pid, None
    _ensure_ports_free(settings, "kafka_port", "controller_port")
    began = time.monotonic()
    pid, formatted = kafka.start(
        libs,
        layout,
        kafka_port=settings.kafka_port,
        controller_port=settings.controller_port,
        mode=settings.security,
    )
    spawned = time.monotonic()
    if formatted:
        log(f"kafka: formatted new storage {layout.data_dir} in {spawned - began:.1f} s")
    return pid, spawned


def _start_opa(settings: StackSettings, binary: Path) -> tuple[int, float | None]:
    layout = _opa(settings)
    pid = _running(layout.pid_file, layout.markers)
    if pid is not None:
        return pid, None
    _ensure_ports_free(settings, "opa_port")
    return opa.start(binary, layout, settings.opa_port), time.monotonic()


def _running(pid_file: Path, markers: tuple[str, ...]) -> int | None:
    processes.clear_stale(pid_file, markers)
    return processes.running_pid(pid_file, markers)


def _ensure_ports_free(settings: StackSettings, *names: str) -> None:
    for name in names:
        processes.ensure_port_free(getattr(settings, name), f"{name} ({PORT_VARIABLES[name]})")


def _wait(
    name: str,
    layout: kafka.Layout | opa.Layout,
    pid: int,
    spawned: float | None,
    ready: Callable[[], bool],
    deadline: float,
    log: Log,
) -> None:
    began = time.monotonic()
    processes.wait_ready(name, pid, ready, deadline, layout.out_log)
    if spawned is not None:
        log(f"{name}: started pid {pid}, ready in {time.monotonic() - spawned:.1f} s")
    else:
        log(f"{name}: already running (pid {pid}), answered in {time.monotonic() - began:.1f} s")


def _ensure_topics(settings: StackSettings, log: Log) -> None:
    began = time.monotonic()
    specs = planned_topics()
    created, drift = kafka.ensure_topics(
        settings.bootstrap_servers, specs, security=settings.admin_security
    )
    took = time.monotonic() - began
    log(f"kafka: {len(specs)} catalogue topics present ({len(created)} created) in {took:.1f} s")
    for line in drift:
        log(f"kafka: warning: {line}")


def _apply_access(settings: StackSettings, log: Log) -> None:
    """Secured stack: a SCRAM user per principal and the ACLs of the policy data, today."""
    from deploy.access.apply import apply_acls
    from deploy.access.plan import access_plan
    from deploy.access.users import ensure_users

    plan = access_plan(settings.policies_dir / "data")
    with kafka.admin_client(settings.bootstrap_servers, 30.0, settings.admin_security) as admin:
        users = ensure_users(admin, plan, secured.local_secrets(settings.state_dir))
        acls = apply_acls(admin, plan)
    log(f"kafka: sasl, {users.summary()}; acls: {acls.summary()}")


def down(settings: StackSettings, log: Log = print) -> None:
    """Stop the OPA and Kafka this state directory started; nothing else."""
    for name, layout in (("opa", _opa(settings)), ("kafka", _kafka(settings))):
        log(f"{name}: {processes.stop(layout.pid_file, layout.markers)}")


def status(settings: StackSettings) -> list[ServiceStatus]:
    return [_kafka_status(settings), _opa_status(settings)]


def _kafka_status(settings: StackSettings) -> ServiceStatus:
    layout = _kafka(settings)
    pid = processes.running_pid(layout.pid_file, layout.markers)
    cluster = (
        kafka.describe(settings.bootstrap_servers, security=settings.admin_security)
        if pid is not None
        else None
    )
    if pid is None:
        detail = "not started by this state directory"
    elif cluster is None:
        detail = f"process up but not answering yet; see {layout.logs_dir}"
    else:
        detail = f"answering, cluster {cluster.get('cluster_id')}"
    return ServiceStatus("kafka", pid is not None, pid, settings.bootstrap_servers, detail)


def _opa_status(settings: StackSettings) -> ServiceStatus:
    layout = _opa(settings)
    pid = processes.running_pid(layout.pid_file, layout.markers)
    if pid is None:
        detail = "not started by this state directory"
    elif not opa.healthy(settings.opa_url):
        detail = f"process up but /health does not answer 200; see {layout.out_log}"
    else:
        detail = f"healthy, {opa.policy_count(settings.opa_url)} policy modules loaded"
    return ServiceStatus("opa", pid is not None, pid, settings.opa_url, detail)
