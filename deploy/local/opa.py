"""The local OPA server: built once with ``go install``, serving ``policies/`` with live reload.

Layout:

- ``<cache_dir>/opa/<OPA_VERSION>/opa``: the binary (built once, ~80 s; later starts reuse it);
- ``<state_dir>/logs/opa.out``: its stdout and stderr (errors only: ``--log-level error``);
- ``<state_dir>/run/opa.pid``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.local.processes import StackError, require_tool, run_tool, start_detached

OPA_VERSION = "v1.22.0"
OPA_MODULE = "github.com/open-policy-agent/opa"

GO_HINT = (
    "Go is needed to build OPA (once): install it from https://go.dev/dl/ "
    "or apt-get install golang-go"
)


@dataclass(frozen=True)
class Layout:
    """Where one stack's OPA keeps its files."""

    state_dir: Path
    policies_dir: Path

    @property
    def out_log(self) -> Path:
        return self.state_dir / "logs" / "opa.out"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "run" / "opa.pid"

    @property
    def markers(self) -> tuple[str, ...]:
        # Independent of the version and cache directory, so `down` still recognises an
        # OPA started before either changed.
        return ("opa run --server", f"--watch {self.policies_dir}")


def binary_path(cache_dir: Path) -> Path:
    return cache_dir / "opa" / OPA_VERSION / "opa"


def install(cache_dir: Path, log: Callable[[str], None]) -> Path:
    """Make sure the pinned OPA binary is in the cache (built with Go only the first time)."""
    binary = binary_path(cache_dir)
    if binary.is_file() and os.access(binary, os.X_OK):
        log(f"opa: {OPA_VERSION} cached")
        return binary
    go = require_tool("go", GO_HINT)
    staging = binary.parent.with_name(f"{OPA_VERSION}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log(f"opa: building {OPA_VERSION} with go install (once; about a minute and a half)")
    started = time.monotonic()
    _go_install(go, staging)
    shutil.rmtree(binary.parent, ignore_errors=True)
    staging.rename(binary.parent)
    log(f"opa: built {OPA_VERSION} in {time.monotonic() - started:.1f} s")
    return binary


def _go_install(go: str, gobin: Path) -> None:
    # The user's Go settings (GOPATH, GOPROXY, GOFLAGS, HOME) pass through untouched;
    # only the output directory and a static build are ours.
    env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(gobin)}
    run_tool(
        [go, "install", f"{OPA_MODULE}@{OPA_VERSION}"], f"go install of OPA {OPA_VERSION}", env
    )


def server_argv(binary: Path, port: int, policies_dir: Path) -> list[str]:
    return [
        str(binary),
        "run",
        "--server",
        "--addr",
        f"127.0.0.1:{port}",
        "--log-level",
        "error",
        # --disable-telemetry is deprecated in OPA 1.x in favour of this flag.
        "--skip-version-check",
        # Editors' lock and swap files (.#x.rego, .x.rego.swp) would break a live reload.
        "--ignore",
        ".*",
        "--watch",
        str(policies_dir),
    ]


def start(binary: Path, layout: Layout, port: int) -> int:
    if not layout.policies_dir.is_dir():
        raise StackError(f"the policies folder {layout.policies_dir} does not exist")
    argv = server_argv(binary, port, layout.policies_dir)
    return start_detached(argv, layout.out_log, layout.pid_file)


def _get(url: str, timeout_s: float) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return None


def healthy(opa_url: str, timeout_s: float = 1.0) -> bool:
    """True when ``GET /health`` answers 200."""
    answer = _get(f"{opa_url}/health", timeout_s)
    return answer is not None and answer[0] == 200


def policy_count(opa_url: str, timeout_s: float = 1.0) -> int | None:
    """How many policy modules the server has loaded; None if it does not say."""
    answer = _get(f"{opa_url}/v1/policies", timeout_s)
    if answer is None or answer[0] != 200:
        return None
    return len(json.loads(answer[1]).get("result", []))
