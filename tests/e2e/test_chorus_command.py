"""The `chorus` command as a user runs it, on synthetic data and the real stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.integration.harness import REPO

SUBCOMMANDS = [
    [],
    ["stack"],
    ["stack", "up"],
    ["stack", "down"],
    ["stack", "status"],
    ["synth"],
    ["connector"],
    ["connector", "check"],
    ["connector", "run"],
    ["connector", "status"],
    ["policy"],
    ["policy", "test"],
    ["policy", "explain"],
    ["worker"],
    ["agg"],
    ["agg", "tail"],
    ["agg", "sink"],
    ["ledger", "sink"],
    ["ledger", "person"],
    ["dashboard"],
    ["access", "plan"],
    ["access", "apply"],
    ["deploy", "render"],
    ["demo"],
]


def chorus(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        cwd=REPO,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a) or "chorus")
def test_every_subcommand_has_help(args):
    result = chorus(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: chorus" in result.stdout


def test_bad_connector_config_is_one_line_naming_every_problem(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        yaml.safe_dump({"connector": "case_management", "la_code": "12", "batch_size": -1})
    )
    result = chorus("connector", "run", str(cfg))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0
    for part in (
        "'name' is required",
        "'source_url' is required",
        "'la_code' = '12'",
        "'batch_size' = -1",
    ):
        assert part in message


def test_production_mode_refuses_to_start_a_worker_without_a_key():
    env = dict(os.environ, CHORUS_MODE="production")
    env.pop("CHORUS_PSEUDONYM_KEY", None)
    env.pop("CHORUS_PSEUDONYM_KEY_FILE", None)
    result = chorus("worker", env=env, timeout=60)
    assert result.returncode == 2
    assert "production mode needs a pseudonymisation key" in result.stderr


@pytest.mark.integration
def test_demo_shows_cells_arriving(stack, namespace, tmp_path):
    env = namespace.env(CHORUS_HOME=str(tmp_path))
    result = chorus("demo", "--children", "800", "--settle", "6", env=env, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    published = int(re.search(r"connector published (\d+) referrals", out).group(1))
    assert published > 0
    cells = int(re.search(r"demo: (\d+) cells published", out).group(1))
    assert cells > 0
    rows = [line for line in out.splitlines() if "referrals=" in line]
    assert len(rows) >= cells
    assert any("referrals=suppressed" in r for r in rows)


@pytest.mark.integration
def test_a_synthetic_la_in_three_sources_is_checked_published_and_reported(namespace, tmp_path):
    env = namespace.env(CHORUS_HOME=str(tmp_path))
    out = tmp_path / "la"
    result = chorus("synth", "--out", str(out), "--children", "400", "--seed", "3", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    configs = sorted(out.glob("*.connector.yaml"))
    assert [c.name.split(".")[0] for c in configs] == ["case_management", "education", "health"]
    for cfg in configs:
        check = chorus("connector", "check", str(cfg), env=env)
        assert check.returncode == 0, check.stdout + check.stderr[-2000:]
        assert "source and Kafka reachable" in check.stdout
        run = chorus("connector", "run", str(cfg), "--until-idle", env=env, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        published = int(re.search(r"published (\d+)", run.stdout).group(1))
        assert published > 0, cfg.name
        status = chorus("connector", "status", str(cfg), env=env)
        assert status.returncode == 0, status.stderr[-2000:]
        assert "lag: 0 " in status.stdout and f"published: {published}" in status.stdout


def test_connector_check_names_a_source_it_cannot_read(tmp_path):
    cfg = tmp_path / "cm.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "connector": "case_management",
                "name": "lcs",
                "la_code": "999",
                "source_url": f"sqlite:///{tmp_path / 'missing' / 'nothing.db'}",
            }
        )
    )
    result = chorus("connector", "check", str(cfg), timeout=60)
    assert result.returncode == 1
    assert "source database" in result.stdout
