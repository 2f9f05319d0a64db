"""Helpers for integration tests: a topic namespace, worker processes, polling with a deadline."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from deploy.commands.worker import worker_command
from deploy.topic_plan import planned_topics
from schemas import topics
from schemas.codec import Codec
from streams.aggregates import engine, registry
from streams.aggregates.cellstore import CellStore

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


def wait_for_stack(stack: Stack, deadline_s: float) -> str | None:
    end = time.monotonic() + deadline_s
    problem = "not checked"
    while time.monotonic() < end:
        try:
            admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap, request_timeout_ms=5000)
            admin.list_topics()
            admin.close()
        except Exception as exc:
            problem = f"Kafka does not answer at {stack.bootstrap} ({type(exc).__name__})"
            time.sleep(1)
            continue
        try:
            with urllib.request.urlopen(f"{stack.opa_url}/health", timeout=5) as resp:
                if resp.status == 200:
                    return None
        except OSError as exc:
            problem = f"OPA does not answer at {stack.opa_url} ({type(exc).__name__})"
        time.sleep(1)
    return problem


def poll(check: Callable[[], T | None], deadline_s: float, what: str, every_s: float = 0.5) -> T:
    """Call `check` until it returns something truthy, or fail after the deadline."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {deadline_s:.0f}s waiting for {what}")


def http_get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET (0 and nothing when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    bootstrap: str
    opa_url: str

    def namespace(self) -> Namespace:
        ns = Namespace(self, prefix=f"t{uuid.uuid4().hex[:10]}.")
        ns.create_topics()
        return ns


@dataclass
class Namespace:
    stack: Stack
    prefix: str
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def create_topics(self, deadline_s: float = 60.0) -> None:
        """Create the namespace's topics and wait until the broker lists every one of them.

        A worker that starts before a new topic is in the cluster metadata is assigned
        nothing from it, so tests wait here rather than race the broker.
        """
        specs = planned_topics(self.prefix)
        admin = KafkaAdminClient(bootstrap_servers=self.stack.bootstrap)
        try:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [
                        NewTopic(t.name, t.partitions, 1, topic_configs=t.kafka_config())
                        for t in specs
                    ],
                    timeout_ms=60_000,
                )
            wanted = {t.name for t in specs}
            poll(lambda: wanted <= set(admin.list_topics()) or None, deadline_s, "topics created")
        finally:
            admin.close()

    def delete_topics(self) -> None:
        """Remove every topic of this namespace, faust's internal ones included."""
        admin = KafkaAdminClient(bootstrap_servers=self.stack.bootstrap)
        try:
            mine = [t for t in admin.list_topics() if t.startswith(self.prefix)]
            if mine:
                admin.delete_topics(mine, timeout_ms=30_000)
        finally:
            admin.close()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CHORUS_KAFKA_BOOTSTRAP=self.stack.bootstrap,
            CHORUS_OPA_URL=self.stack.opa_url,
            CHORUS_TOPIC_PREFIX=self.prefix,
        )
        env.update(extra)
        return env

    def app_id(self, name: str) -> str:
        """A faust app id (consumer group, table changelogs) unique to this namespace."""
        return f"{self.prefix}{name}"

    def start_process(self, cmd: list[str], log: Path, **env: str) -> subprocess.Popen:
        """A process in this namespace (its output in `log`), stopped by its PID at teardown."""
        fh = open(log, "ab")  # noqa: SIM115 - the process owns it until it ends
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=self.env(CHORUS_HOME=str(log.parent), **env),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(proc)
        self.logs.append(log)
        return proc

    def start_chorus(self, log: Path, *args: str, **env: str) -> subprocess.Popen:
        """`chorus ARGS` in this namespace."""
        return self.start_process([sys.executable, "-m", "deploy", *args], log, **env)

    def start_worker(self, name: str, log: Path, publish_interval: float = 1.0) -> subprocess.Popen:
        cmd = worker_command(sys.executable, self.app_id(name), publish_interval, free_port())
        return self.start_process(cmd, log)

    def check_alive(self) -> None:
        """Fail at once, with the log's tail, when a process this test started has died."""
        for proc, log in zip(self.processes, self.logs, strict=True):
            if proc.poll() is not None and proc.returncode not in (-9, -15, 0):
                tail = log.read_text(errors="replace").splitlines()[-20:]
                raise AssertionError(
                    f"{' '.join(proc.args[3:5])} exited {proc.returncode}:\n" + "\n".join(tail)
                )

    def poll(self, check: Callable[[], T | None], deadline_s: float, what: str) -> T:
        def checked() -> T | None:
            self.check_alive()
            return check()

        return poll(checked, deadline_s, what)

    def stop_processes(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def read_all(self, topic: str, timeout_ms: int = 2000) -> list[Any]:
        """Every message now on `topic`, from the beginning."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.stack.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            consumer_timeout_ms=timeout_ms,
        )
        try:
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
            if not parts:
                return []  # the topic does not exist (yet)
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            end = consumer.end_offsets(parts)
            out: list[Any] = []
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for batch in consumer.poll(timeout_ms=timeout_ms).values():
                    out.extend(batch)
            return out
        finally:
            consumer.close()

    def decoded(self, topic: str) -> list[dict[str, Any]]:
        codec = Codec()
        return [codec.decode(m.value)[1] for m in self.read_all(topic)]

    def table_state(self, app_id: str, table: str) -> dict[Any, Any]:
        """A faust table's current contents, from its changelog topic (JSON keys and values)."""
        state: dict[Any, Any] = {}
        for m in self.read_all(f"{app_id}-{table}-changelog"):
            key = json.loads(m.key)
            if m.value is None:
                state.pop(key, None)
            else:
                state[key] = json.loads(m.value)
        return state

    def live_cells(self, worker: str, aggregate: str) -> CellStore:
        """A worker's cells as its changelogs make them after a restart: the known cell
        keys, and every child's contributions from its facts."""
        spec = registry.aggregate(aggregate)
        app = self.app_id(worker)
        store = CellStore(spec, lambda member: 0)  # only members and counts are read
        store.load(self.table_state(app, f"{aggregate}-cell-keys"))
        states = self.table_state(app, f"{aggregate}-contributions")
        store.reconcile({s: engine.contributions(spec, s, st) for s, st in states.items()})
        return store

    def raw_counts(self, worker: str, aggregate: str) -> dict[str, int]:
        """Each cell's true count before disclosure control: its number of member records."""
        return {k: n for k, n in self.live_cells(worker, aggregate).counts().items() if n}

    def latest_cells(self, aggregate: str) -> dict[str, dict[str, Any]]:
        cells: dict[str, dict[str, Any]] = {}
        for cell in self.decoded(topics.agg_topic(aggregate, self.prefix)):
            cells[cell["cell_key"]] = cell
        return cells


@contextlib.contextmanager
def secured_private_stack(state_dir: Path):
    """A private local stack with CHORUS_KAFKA_SECURITY=sasl on free ports; stopped after.

    Yields (settings, env): env runs `chorus` against it (CHORUS_HOME, ports, sasl).
    """
    from deploy.local import stack as local_stack

    cache = Path(os.environ.get("CHORUS_CACHE", "~/.cache/chorus")).expanduser()
    settings = local_stack.StackSettings(
        state_dir=state_dir,
        cache_dir=cache,
        policies_dir=REPO / "policies",
        kafka_port=free_port(),
        controller_port=free_port(),
        opa_port=free_port(),
        security="sasl",
    )
    env = dict(os.environ)
    for name in ("CHORUS_KAFKA_BOOTSTRAP", "CHORUS_OPA_URL", "CHORUS_TOPIC_PREFIX"):
        env.pop(name, None)
    env.update(
        CHORUS_HOME=str(state_dir),
        CHORUS_CACHE=str(cache),
        CHORUS_KAFKA_SECURITY="sasl",
        CHORUS_KAFKA_PORT=str(settings.kafka_port),
        CHORUS_KAFKA_CONTROLLER_PORT=str(settings.controller_port),
        CHORUS_OPA_PORT=str(settings.opa_port),
    )
    local_stack.up(settings, log=lambda _: None)
    try:
        yield settings, env
    finally:
        local_stack.down(settings, log=lambda _: None)
