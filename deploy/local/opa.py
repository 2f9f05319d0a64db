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
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
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


# -- bundles and the REST API (`chorus policy push`, `chorus policy impact`) -------------------


@dataclass(frozen=True)
class Bundle:
    """An OPA bundle built with ``opa build``: its revision, modules and data."""

    path: Path
    revision: str
    modules: dict[str, str]  # path inside the bundle (sharing/sharing.rego) -> Rego text
    data: dict


def build_bundle(binary: Path, policies_dir: Path, revision: str, out: Path) -> Bundle:
    """``opa build`` of a policy folder (checked and compiled) with `revision` in its manifest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(binary), "build", ".", "--ignore", ".*", "--revision", revision, "-o", str(out)],
        cwd=policies_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        last = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise StackError(f"opa build of {policies_dir} failed:\n{last}")
    return read_bundle(out)


def read_bundle(path: Path) -> Bundle:
    modules: dict[str, str] = {}
    data: dict = {}
    manifest: dict = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.lstrip("/")
            raw = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
            if name == ".manifest":
                manifest = json.loads(raw)
            elif name.endswith(".rego"):
                modules[name] = raw
            elif name.endswith("data.json"):
                _merge_at(data, name.split("/")[:-1], json.loads(raw))
    return Bundle(path, str(manifest.get("revision", "")), modules, data)


def _merge_at(root: dict, path: list[str], value: dict) -> None:
    node = root
    for part in path:
        node = node.setdefault(part, {})
    node.update(value)


def _request(opa_url: str, method: str, path: str, body: bytes | None, content_type: str) -> dict:
    req = urllib.request.Request(
        f"{opa_url}/v1/{path}", data=body, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:2000]
        raise StackError(f"OPA at {opa_url} refused {method} /v1/{path}: {detail}") from None
    except OSError as exc:
        raise StackError(f"OPA at {opa_url} does not answer ({exc})") from None
    return json.loads(text) if text.strip() else {}


def list_policies(opa_url: str) -> list[dict]:
    """Every policy module OPA holds: id, raw text and AST."""
    return _request(opa_url, "GET", "policies", None, "application/json").get("result", [])


def put_policy(opa_url: str, policy_id: str, text: str) -> None:
    path = "policies/" + urllib.parse.quote(policy_id)
    _request(opa_url, "PUT", path, text.encode(), "text/plain")


def delete_policy(opa_url: str, policy_id: str) -> None:
    _request(opa_url, "DELETE", "policies/" + urllib.parse.quote(policy_id), None, "text/plain")


def put_data(opa_url: str, path: str, value: object) -> None:
    body = json.dumps(value).encode()
    _request(opa_url, "PUT", "data/" + urllib.parse.quote(path), body, "application/json")


class ScratchOpa:
    """An OPA server of our own on a free port, serving one policy folder; stopped by its PID.

    For ``chorus policy impact`` and tests: ``with ScratchOpa(binary, folder) as url: ...``.
    With ``watch`` it reloads the folder as its files change, as the stack's OPA does.
    """

    def __init__(self, binary: Path, policies_dir: Path, *, watch: bool = False) -> None:
        self.binary = binary
        self.policies_dir = policies_dir
        self.watch = watch
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log = b""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> str:
        if not self.binary.exists():
            raise StackError(f"OPA is not installed at {self.binary}; run `chorus stack install`")
        if not self.policies_dir.is_dir():
            raise StackError(f"the policy folder {self.policies_dir} does not exist")
        self.port = _free_port()
        argv = server_argv(self.binary, self.port, self.policies_dir)
        if not self.watch:
            argv.remove("--watch")
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while not healthy(self.url, timeout_s=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.stop()
                raise StackError(
                    f"OPA could not serve {self.policies_dir}:\n{output.decode(errors='replace')}"
                )
            time.sleep(0.1)
        return self.url

    def stop(self) -> bytes:
        """Stop exactly the process this object started; its output."""
        proc, self.process = self.process, None
        if proc is None:
            return b""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out = proc.stdout.read() if proc.stdout else b""
        if proc.stdout:
            proc.stdout.close()
        return out

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def delete_data(opa_url: str, path: str) -> None:
    try:
        _request(opa_url, "DELETE", "data/" + urllib.parse.quote(path), None, "application/json")
    except StackError as exc:
        if "resource_not_found" not in str(exc):
            raise


def get_data(opa_url: str, path: str) -> object:
    """The document at ``data/<path>``; None when it is undefined."""
    return _request(opa_url, "GET", "data/" + urllib.parse.quote(path), None, "text/plain").get(
        "result"
    )
