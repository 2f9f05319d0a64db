"""Processes the local stack starts: PID files, detached starts with logs, safe stops.

Everything here acts only on processes we started. A PID file names a process, and
before we signal it we check its command line still carries our markers (for
example ``kafka.Kafka`` and our ``server.properties`` path), so a PID the kernel
has since given to some other program is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

POLL_INTERVAL_S = 0.2
# Written to a process's log before each start, so a failure shows only that run's lines.
START_HEADER = "==== chorus stack: started"


class StackError(Exception):
    """A problem with the local stack, worded for the user (first line says it all)."""


def require_tool(
    name: str, why_and_how: str, which: Callable[[str], str | None] = shutil.which
) -> str:
    """Path of the executable ``name``, or StackError(why_and_how) when it is not on PATH."""
    path = which(name)
    if path is None:
        raise StackError(why_and_how)
    return path


def run_tool(argv: Sequence[str], what: str, env: Mapping[str, str] | None = None) -> str:
    """Run a short command to completion; its stdout, or StackError with its last output lines."""
    result = subprocess.run(list(argv), env=env, capture_output=True, text=True)
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise StackError(f"{what} failed (exit {result.returncode}):\n{output}")
    return result.stdout


# -- PID files ----------------------------------------------------------------------------


def read_pid(pid_file: Path) -> int | None:
    """The PID in ``pid_file``, or None when the file is missing or does not hold a PID."""
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(pid_file)


def process_cmdline(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The command line of a live process, arguments joined by spaces; None if gone.

    Zombies (exited, not yet reaped) count as gone: their cmdline is empty.
    """
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or None


def is_alive(pid: int, proc: Path = Path("/proc")) -> bool:
    """True while the process exists and has not exited (a zombie has exited)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state comes after the command name, which is in parentheses and may contain some.
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] not in ("Z", "X")


def is_ours(pid: int, markers: Sequence[str], proc: Path = Path("/proc")) -> bool:
    """True when ``pid`` is alive and its command line contains every marker.

    Only for processes started earlier: for a split second after exec the kernel
    shows an empty command line, so a process we have just started is checked
    with ``is_alive`` instead.
    """
    cmdline = process_cmdline(pid, proc)
    return cmdline is not None and all(marker in cmdline for marker in markers)


def running_pid(pid_file: Path, markers: Sequence[str], proc: Path = Path("/proc")) -> int | None:
    """The PID from ``pid_file`` if that process is still ours and alive, else None."""
    pid = read_pid(pid_file)
    return pid if pid is not None and is_ours(pid, markers, proc) else None


def clear_stale(pid_file: Path, markers: Sequence[str], proc: Path = Path("/proc")) -> bool:
    """Remove ``pid_file`` if it does not name a live process of ours; True if removed."""
    if pid_file.exists() and running_pid(pid_file, markers, proc) is None:
        pid_file.unlink(missing_ok=True)
        return True
    return False


# -- starting and stopping ----------------------------------------------------------------


def start_detached(argv: Sequence[str], log_file: Path, pid_file: Path) -> int:
    """Start ``argv`` in its own session, stdout and stderr appended to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        out.write(f"{START_HEADER} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        out.flush()
        # A new session keeps the service alive after the CLI exits and out of the
        # terminal's Ctrl-C.
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    write_pid(pid_file, child.pid)
    return child.pid


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_alive(pid):
            return True
        time.sleep(POLL_INTERVAL_S)
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop(pid_file: Path, markers: Sequence[str], timeout_s: float = 30.0) -> str:
    """Stop the process named in ``pid_file`` if it is ours; say what happened.

    SIGTERM first, then SIGKILL after ``timeout_s``. The PID file is removed in every case.
    """
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return "not running"
    if not is_ours(pid, markers):
        pid_file.unlink(missing_ok=True)
        return f"not running (removed stale pid file for {pid})"
    started = time.monotonic()
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout_s):
        outcome = f"stopped pid {pid} in {time.monotonic() - started:.1f} s"
    else:
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, 5.0)
        outcome = f"killed pid {pid} after {timeout_s:.0f} s without exiting on SIGTERM"
    pid_file.unlink(missing_ok=True)
    return outcome


def wait_ready(
    name: str, pid: int, ready: Callable[[], bool], deadline: float, log_file: Path
) -> None:
    """Poll ``ready`` until true; fail at once if the process dies, or at ``deadline``."""
    while True:
        if ready():
            return
        _reap(pid)
        if not is_alive(pid):
            raise StackError(f"{name} exited during startup. {log_hint(log_file)}")
        if time.monotonic() >= deadline:
            raise StackError(f"{name} did not become ready in time. {log_hint(log_file)}")
        time.sleep(POLL_INTERVAL_S)


# -- logs and ports -----------------------------------------------------------------------


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines a process wrote to ``path`` since its latest start."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    if START_HEADER in text:
        text = text.rpartition(START_HEADER)[2].partition("\n")[2]
    return "\n".join(text.splitlines()[-lines:])


def log_hint(log_file: Path, lines: int = 20) -> str:
    last = tail(log_file, lines)
    if not last:
        return f"Its log {log_file} is empty."
    return f"Last lines of {log_file}:\n{last}"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so connections left in TIME_WAIT by a service we just stopped
        # do not count as "in use"; a live listener still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def ensure_port_free(port: int, setting: str) -> None:
    if port_in_use(port):
        raise StackError(
            f"port {port} on 127.0.0.1 is already in use by another program; "
            f"stop it or choose another {setting}"
        )
