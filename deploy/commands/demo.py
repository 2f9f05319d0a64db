"""`chorus demo`: the whole path on synthetic data, on the local stack.

Starts the stack, writes a synthetic LA, starts a worker, runs the connector
until it has published everything, and prints aggregate cells as they arrive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from connectors.case_management import config as cm_config
from connectors.case_management.connector import CaseManagementConnector
from deploy.commands.agg import tail
from deploy.synth.case_management import SynthOptions, write_case_management_db


def write_connector_config(path: Path, db: Path, bootstrap: str, state_dir: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "connector": "case_management",
        "name": "lcs-demo",
        "source_url": f"sqlite:///{db}",
        "source_system": "LIQUIDLOGIC_LCS",
        "la_code": "999",
        "kafka_bootstrap": bootstrap,
        "state_dir": str(state_dir),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run_demo(home: Path, bootstrap: str, children: int, seed: int, settle_s: float) -> None:
    demo_dir = home / "demo"
    db = demo_dir / "case_management.db"
    if db.exists():
        db.unlink()  # a fresh LA each run; positions go with it
    for stale in (
        (demo_dir / "connectors").glob("*.json") if (demo_dir / "connectors").exists() else []
    ):
        stale.unlink()
    summary = write_case_management_db(
        f"sqlite:///{db}", SynthOptions(children=children, seed=seed)
    )
    print(f"demo: synthetic LA written: {summary.rows}")
    cfg_path = write_connector_config(
        demo_dir / "connector.yaml", db, bootstrap, demo_dir / "connectors"
    )
    log_path = home / "logs" / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CHORUS_KAFKA_BOOTSTRAP=bootstrap)
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deploy",
                "worker",
                "--app-id",
                f"chorus-demo-{int(time.time())}",
                "--publish-interval",
                "2",
                "--web-port",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    print(f"demo: worker started (pid {worker.pid}, log {log_path})")
    try:
        connector = CaseManagementConnector(cm_config.load(cfg_path))
        stats = connector.run(until_idle=True)
        connector.close()
        print(
            f"demo: connector published {stats.published} referrals "
            f"({stats.dead_lettered} dead-lettered) in {stats.seconds:.1f}s"
        )
        print("demo: aggregate cells as they arrive (chorus agg tail referrals_by_source):")
        cells = tail(bootstrap, "referrals_by_source", idle_timeout_s=settle_s)
        print(f"demo: {len(cells)} cells published; the worker keeps them live.")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    print("demo: done. The stack is still running: `chorus stack status`, `chorus stack down`.")
