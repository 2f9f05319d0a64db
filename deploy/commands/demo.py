"""`chorus demo`: the whole path on synthetic data, on the local stack.

Writes a synthetic LA, starts a worker, runs the connector until it has
published everything, and prints aggregate cells as they arrive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from connectors import registry
from connectors.common.runner import ConnectorRunner
from deploy.commands.agg import tail
from deploy.commands.worker import worker_command
from deploy.environment import Environment
from deploy.synth.case_management import SynthOptions, write_case_management_db
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from schemas.topics import agg_topic


@dataclass(frozen=True)
class DemoKafkaUser:
    """Who the demo's connector, worker and reader are on Kafka: one user for all three.

    On the secured local stack that is its ``admin`` (the demo does every principal's
    work); ``password_file`` is where the connector and the worker read its password.
    """

    security: KafkaSecurity = UNAUTHENTICATED
    password_file: str = ""

    def connector_settings(self) -> dict[str, str]:
        if not self.security.sasl:
            return {}
        return {
            "kafka_username": self.security.username,
            "kafka_password_file": self.password_file,
            "kafka_security_protocol": self.security.protocol,
            "kafka_ca_file": self.security.ca_file,
        }

    def worker_env(self) -> dict[str, str]:
        if not self.security.sasl:
            return {}
        return {
            "CHORUS_KAFKA_USERNAME": self.security.username,
            "CHORUS_KAFKA_PASSWORD_FILE": self.password_file,
            "CHORUS_KAFKA_SECURITY_PROTOCOL": self.security.protocol,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_connector_config(
    path: Path,
    db: Path,
    bootstrap: str,
    state_dir: Path,
    prefix: str,
    user: DemoKafkaUser = DemoKafkaUser(),
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "connector": "case_management",
        "name": "lcs-demo",
        "source_url": f"sqlite:///{db}",
        "source_system": "LIQUIDLOGIC_LCS",
        "la_code": "999",
        "kafka_bootstrap": bootstrap,
        "state_dir": str(state_dir),
        "topic_prefix": prefix,
        **user.connector_settings(),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _start_worker(home: Path, bootstrap: str, prefix: str, user: DemoKafkaUser) -> subprocess.Popen:
    log_path = home / "logs" / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CHORUS_KAFKA_BOOTSTRAP=bootstrap, CHORUS_TOPIC_PREFIX=prefix)
    env.update(user.worker_env())
    app_id = f"{prefix}chorus-demo-{int(time.time())}"
    cmd = worker_command(sys.executable, app_id, 2.0, _free_port())
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    print(f"demo: worker started (pid {worker.pid}, log {log_path})")
    return worker


def run_demo(
    home: Path,
    bootstrap: str,
    children: int,
    seed: int,
    settle_s: float,
    prefix: str = "",
    user: DemoKafkaUser = DemoKafkaUser(),
) -> None:
    demo_dir = home / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    db = demo_dir / "case_management.db"
    db.unlink(missing_ok=True)  # a fresh LA each run; its connector position goes with it
    (demo_dir / "connectors" / "lcs-demo.position.json").unlink(missing_ok=True)
    summary = write_case_management_db(
        f"sqlite:///{db}", SynthOptions(children=children, seed=seed)
    )
    print(f"demo: synthetic LA written: {summary.rows}")
    cfg_path = write_connector_config(
        demo_dir / "connector.yaml", db, bootstrap, demo_dir / "connectors", prefix, user
    )
    worker = _start_worker(home, bootstrap, prefix, user)
    try:
        runner = ConnectorRunner(registry.load(cfg_path))
        stats = runner.run(until_idle=True)
        runner.close()
        print(
            f"demo: connector published {stats.published} referrals "
            f"({stats.dead_lettered} dead-lettered) in {stats.seconds:.1f}s"
        )
        topic = agg_topic("referrals_by_source", prefix)
        _wait_for_first_cell(bootstrap, topic, worker, security=user.security)
        print("demo: aggregate cells as they arrive (chorus agg tail referrals_by_source):")
        cells = tail(
            bootstrap,
            "referrals_by_source",
            idle_timeout_s=settle_s,
            prefix=prefix,
            security=user.security,
        )
        print(f"demo: {len(cells)} cells published; a running worker keeps them live.")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    print("demo: done. The stack is still running: `chorus stack status`, `chorus stack down`.")


def _wait_for_first_cell(
    bootstrap: str,
    topic: str,
    worker: subprocess.Popen,
    deadline_s: float = 300.0,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> None:
    """Wait while the worker starts and counts: until its first publication, or it dies."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **security.kafka_python())
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    ends = time.monotonic() + deadline_s
    try:
        while time.monotonic() < ends and worker.poll() is None:
            if parts and any(consumer.end_offsets(parts).values()):
                return
            time.sleep(1.0)
    finally:
        consumer.close()
    print("demo: no aggregate cells yet; see the worker log")


def demo_kafka_user(env: Environment) -> DemoKafkaUser:
    """The demo's Kafka user: CHORUS_KAFKA_USERNAME with its password file, or, on the
    secured local stack, its ``admin`` from the local store; unauthenticated otherwise."""
    from deploy.commands.common import UserError, admin_security
    from deploy.secrets import LocalSecrets

    security = admin_security(env)
    if not security.sasl:
        return DemoKafkaUser()
    password_file = env.get("CHORUS_KAFKA_PASSWORD_FILE") or str(
        LocalSecrets.under(env.path("CHORUS_HOME").resolve()).path(security.username)
    )
    if not Path(password_file).is_file():
        raise UserError("the demo's connector needs CHORUS_KAFKA_PASSWORD_FILE")
    return DemoKafkaUser(security, password_file)
