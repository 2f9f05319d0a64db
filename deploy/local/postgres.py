"""A private PostgreSQL server for local runs and tests: its own cluster, port and PID.

It never touches a system cluster. Layout under ``state_dir`` (for example
``$CHORUS_HOME/postgres``):

- ``data/``: the cluster, created by ``initdb`` (trust authentication, listening on
  127.0.0.1 only, superuser ``chorus``);
- ``run/``: the server's Unix socket, and ``postgres.pid``, the PID this module
  started and is the only process it ever stops;
- ``logs/postgres.out``: the server's output.

The server binaries come from the Debian ``postgresql`` package (installed with
apt-get when missing and running as root). PostgreSQL refuses to run as root, so
as root the cluster directory is given to the ``postgres`` user and the
server runs as that user (``subprocess`` switches user before it runs
``initdb``/``postgres``, so the PID recorded is the server's own).

    .venv/bin/python -m deploy.local.postgres start --state-dir .chorus/postgres
    .venv/bin/python -m deploy.local.postgres stop --state-dir .chorus/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.local.processes import (
    StackError,
    is_alive,
    log_hint,
    process_cmdline,
    read_pid,
    start_detached,
    write_pid,
)

DEFAULT_PORT = 5433
SUPERUSER = "chorus"
SERVICE_USER = "postgres"
PACKAGE = "postgresql"
_BIN_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class Server:
    """One private cluster: where it lives and the port it listens on."""

    state_dir: Path
    port: int = DEFAULT_PORT

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "postgres.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "postgres.out"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for a database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


# --------------------------------------------------------------------------- binaries


def bin_dir(root: Path = _BIN_ROOT) -> Path | None:
    """The newest PostgreSQL server binaries the Debian packages installed, if any."""
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "postgres").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def ensure_installed(log=print) -> Path:
    """The binaries' folder; installs the ``postgresql`` package first when missing and root."""
    found = bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            "PostgreSQL is not installed: install the Debian package 'postgresql' "
            "(sudo apt-get install -y postgresql)"
        )
    log("postgres: installing the Debian package 'postgresql' (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE],
    ):
        result = subprocess.run(argv, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-10:])
            raise StackError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{tail}")
    found = bin_dir()
    if found is None:
        raise StackError("apt-get installed 'postgresql' but no server binaries were found")
    return found


# --------------------------------------------------------------------------- users


def _service_user() -> str | None:
    """Who runs the server: ourselves, or the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise StackError(
            f"running as root, and there is no '{SERVICE_USER}' user to run PostgreSQL as; "
            "install the Debian package 'postgresql', which creates it"
        ) from None
    return SERVICE_USER


def _give_to(user: str | None, *paths: Path) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for path in paths:
        for p in [path, *path.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)
    # every parent must be traversable by the service user
    for parent in paths[0].parents:
        if not os.stat(parent).st_mode & 0o001:
            raise StackError(
                f"{parent} is not searchable by the '{user}' user, so PostgreSQL cannot reach "
                f"{paths[0]}; use a state folder outside it (for example under /tmp)"
            )


# --------------------------------------------------------------------------- start, stop


def _markers(server: Server) -> tuple[str, ...]:
    return ("postgres", f"-D {server.data_dir}")


def running_pid(server: Server) -> int | None:
    pid = read_pid(server.pid_file)
    if pid is None:
        return None
    cmdline = process_cmdline(pid)
    if cmdline is None or not all(m in cmdline for m in _markers(server)):
        return None
    return pid


def _initdb(binaries: Path, server: Server, user: str | None) -> None:
    server.data_dir.mkdir(parents=True, exist_ok=True)
    server.run_dir.mkdir(parents=True, exist_ok=True)
    server.log_file.parent.mkdir(parents=True, exist_ok=True)
    _give_to(user, server.state_dir)
    if (server.data_dir / "PG_VERSION").exists():
        return
    result = subprocess.run(
        [
            str(binaries / "initdb"),
            "-D",
            str(server.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ],
        user=user,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-10:])
        raise StackError(f"initdb failed (exit {result.returncode}):\n{tail}")


def healthy(binaries: Path, server: Server, timeout_s: float = 2.0) -> bool:
    result = subprocess.run(
        [
            str(binaries / "pg_isready"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-t",
            str(max(1, int(timeout_s))),
        ],
        capture_output=True,
    )
    return result.returncode == 0


def start(server: Server, *, deadline_s: float = 60.0, log=print) -> int:
    """Start the server (creating the cluster the first time); its PID. Idempotent."""
    binaries = ensure_installed(log)
    pid = running_pid(server)
    if pid is not None and healthy(binaries, server):
        return pid
    user = _service_user()
    _initdb(binaries, server, user)
    argv = [
        str(binaries / "postgres"),
        "-D",
        str(server.data_dir),
        "-p",
        str(server.port),
        "-k",
        str(server.run_dir),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",  # a disposable test cluster: speed over durability
    ]
    if user is None:
        pid = start_detached(argv, server.log_file, server.pid_file)
    else:
        with server.log_file.open("ab") as out:
            child = subprocess.Popen(
                argv,
                user=user,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pid = child.pid
        write_pid(server.pid_file, pid)
    end = time.monotonic() + deadline_s
    while not healthy(binaries, server):
        if not is_alive(pid):
            raise StackError(f"postgres exited during startup. {log_hint(server.log_file)}")
        if time.monotonic() > end:
            raise StackError(
                f"postgres did not accept connections within {deadline_s:.0f}s. "
                f"{log_hint(server.log_file)}"
            )
        time.sleep(0.2)
    log(f"postgres: running, pid {pid}, port {server.port}, data {server.data_dir}")
    return pid


def stop(server: Server, timeout_s: float = 30.0) -> str:
    """Stop the server this module started (fast shutdown, then SIGKILL); say what happened."""
    pid = running_pid(server)
    if pid is None:
        server.pid_file.unlink(missing_ok=True)
        return "not running"
    os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown: ends sessions, then stops
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child
        if not is_alive(pid):
            server.pid_file.unlink(missing_ok=True)
            return f"stopped pid {pid}"
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    server.pid_file.unlink(missing_ok=True)
    return f"killed pid {pid} after {timeout_s:.0f}s"


def create_database(server: Server, name: str) -> str:
    """Create database ``name`` (if missing); its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("select 1 from pg_database where datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(text(f'create database "{name}"'))
    finally:
        engine.dispose()
    return server.url(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A private PostgreSQL server for Chorus.")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--state-dir", type=Path, default=Path(".chorus/postgres"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    server = Server(args.state_dir.resolve(), args.port)
    try:
        if args.action == "start":
            start(server)
            print(server.url())
        elif args.action == "stop":
            print(f"postgres: {stop(server)}")
        else:
            pid = running_pid(server)
            print(f"postgres: {'running, pid ' + str(pid) if pid else 'stopped'}")
            return 0 if pid else 3
    except StackError as exc:
        print(f"postgres: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
