"""The pure parts of the local stack: PID files, recognising our processes, rendering the
Kafka config, the install cache, and the one-line messages for missing tools and ports.

Nothing here starts Kafka or OPA; the few real processes are `sleep`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.local import kafka, opa, processes, stack
from deploy.local.processes import StackError

KAFKA_MARKERS = ("kafka.Kafka", "/state/kafka/server.properties")


def fake_proc(root: Path, pid: int, argv: list[str], state: str = "S") -> Path:
    """A /proc-like tree holding one process with this command line and state."""
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
    (root / str(pid) / "stat").write_text(f"{pid} (odd (name)) {state} 1 {pid} {pid} 0 -1\n")
    return root


# -- PID files ----------------------------------------------------------------------------


def test_pid_file_round_trip_creates_its_folder(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "kafka.pid"

    processes.write_pid(pid_file, 4321)

    assert processes.read_pid(pid_file) == 4321
    assert pid_file.read_text() == "4321\n"


@pytest.mark.parametrize("content", ["", "abc", "0", "-5", "12 34"])
def test_unreadable_pid_file_means_no_pid(tmp_path: Path, content: str) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text(content)

    assert processes.read_pid(pid_file) is None


def test_missing_pid_file_means_no_pid(tmp_path: Path) -> None:
    assert processes.read_pid(tmp_path / "absent.pid") is None


# -- recognising our processes ------------------------------------------------------------


def test_process_is_ours_only_when_every_marker_is_in_its_command_line(tmp_path: Path) -> None:
    argv = ["java", "-cp", "/c/*", "kafka.Kafka", "/state/kafka/server.properties"]
    proc = fake_proc(tmp_path, 100, argv)

    assert processes.is_ours(100, KAFKA_MARKERS, proc)
    assert not processes.is_ours(100, ("kafka.Kafka", "/other/server.properties"), proc)
    assert not processes.is_ours(101, KAFKA_MARKERS, proc)


def test_zombie_is_neither_alive_nor_ours(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 100, [], state="Z")
    fake_proc(proc, 101, ["java", *KAFKA_MARKERS], state="R")

    assert not processes.is_alive(100, proc)
    assert not processes.is_ours(100, KAFKA_MARKERS, proc)
    assert processes.is_alive(101, proc)
    assert not processes.is_alive(102, proc)


def test_stale_pid_file_is_cleared_and_a_live_one_kept(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", 100, ["java", *KAFKA_MARKERS])
    live, stale, recycled = (tmp_path / f"{n}.pid" for n in ("live", "stale", "recycled"))
    processes.write_pid(live, 100)
    processes.write_pid(stale, 999)
    fake_proc(proc, 200, ["vim", "notes.txt"])
    processes.write_pid(recycled, 200)

    assert processes.running_pid(live, KAFKA_MARKERS, proc) == 100
    assert not processes.clear_stale(live, KAFKA_MARKERS, proc)
    assert processes.clear_stale(stale, KAFKA_MARKERS, proc)
    assert processes.clear_stale(recycled, KAFKA_MARKERS, proc)
    assert live.exists() and not stale.exists() and not recycled.exists()


def test_markers_match_the_command_lines_we_start(tmp_path: Path) -> None:
    kafka_layout = kafka.Layout(tmp_path / "state")
    java = kafka.java_argv(
        "java",
        tmp_path / "libs",
        kafka_layout.logs_dir,
        kafka.MAIN_CLASS,
        str(kafka_layout.properties),
    )
    opa_layout = opa.Layout(tmp_path / "state", tmp_path / "policies")
    server = opa.server_argv(tmp_path / "cache/opa/v1/opa", 8181, opa_layout.policies_dir)

    assert all(m in " ".join(java) for m in kafka_layout.markers)
    assert all(m in " ".join(server) for m in opa_layout.markers)


def test_opa_markers_do_not_depend_on_version_or_cache(tmp_path: Path) -> None:
    layout = opa.Layout(tmp_path / "state", tmp_path / "policies")
    older = opa.server_argv(tmp_path / "elsewhere/opa/v0.70.0/opa", 9999, layout.policies_dir)

    assert all(m in " ".join(older) for m in layout.markers)


# -- starting and stopping real (harmless) processes --------------------------------------


def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Right after exec the kernel briefly shows an empty command line; allow for that."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_start_and_stop_a_detached_process(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "run" / "sleep.pid", tmp_path / "logs" / "sleep.out"
    markers = ("sleep 37",)

    pid = processes.start_detached(["sleep", "37"], log_file, pid_file)

    assert eventually(lambda: processes.running_pid(pid_file, markers) == pid)
    assert os.getsid(pid) == pid  # its own session: the terminal's Ctrl-C does not reach it
    outcome = processes.stop(pid_file, markers, timeout_s=5)
    assert outcome.startswith(f"stopped pid {pid}")
    assert not pid_file.exists()
    assert processes.process_cmdline(pid) is None


def test_stop_never_signals_a_process_that_is_not_ours(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "30"])
    pid_file = tmp_path / "kafka.pid"
    processes.write_pid(pid_file, bystander.pid)
    try:
        outcome = processes.stop(pid_file, KAFKA_MARKERS, timeout_s=1)

        assert outcome == f"not running (removed stale pid file for {bystander.pid})"
        assert bystander.poll() is None
        assert not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_without_pid_file_says_not_running(tmp_path: Path) -> None:
    assert processes.stop(tmp_path / "none.pid", KAFKA_MARKERS) == "not running"


def test_wait_ready_fails_at_once_with_the_log_of_a_process_that_died(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "x.pid", tmp_path / "x.out"
    log_file.write_text("an old run's line\n")
    pid = processes.start_detached(
        ["sh", "-c", "echo boom: bad config; exit 3"], log_file, pid_file
    )

    with pytest.raises(StackError) as failure:
        processes.wait_ready("x", pid, lambda: False, float("inf"), log_file)

    message = str(failure.value)
    assert message.startswith("x exited during startup.")
    assert "boom: bad config" in message
    assert "old run" not in message


# -- logs ---------------------------------------------------------------------------------


def test_tail_shows_only_the_latest_run(tmp_path: Path) -> None:
    log = tmp_path / "kafka.out"
    runs = [
        f"{processes.START_HEADER} t{i}\n" + "".join(f"run{i} {n}\n" for n in range(30))
        for i in (1, 2)
    ]
    log.write_text("".join(runs))

    lines = processes.tail(log, 20).splitlines()

    assert lines == [f"run2 {n}" for n in range(10, 30)]


def test_tail_of_a_log_without_header_or_file(tmp_path: Path) -> None:
    log = tmp_path / "opa.out"
    log.write_text("one\ntwo\nthree\n")

    assert processes.tail(log, 2) == "two\nthree"
    assert processes.tail(tmp_path / "absent.out") == ""


# -- ports --------------------------------------------------------------------------------


def test_port_taken_by_another_program_is_a_one_line_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert processes.port_in_use(port)
        with pytest.raises(StackError) as failure:
            processes.ensure_port_free(port, "kafka_port (CHORUS_KAFKA_PORT)")

    assert str(failure.value) == (
        f"port {port} on 127.0.0.1 is already in use by another program; "
        "stop it or choose another kafka_port (CHORUS_KAFKA_PORT)"
    )
    assert not processes.port_in_use(port)


# -- Kafka configuration ------------------------------------------------------------------


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_server_properties_render_a_single_node_kraft_broker() -> None:
    text = kafka.render_properties(
        kafka.PROPERTIES_TEMPLATE.read_text(),
        kafka_port=19092,
        controller_port=19093,
        data_dir=Path("/state/kafka/data"),
    )
    props = parse_properties(text)

    assert "$" not in text
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == "/state/kafka/data"
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_unknown_placeholder_in_template_is_an_error() -> None:
    with pytest.raises(KeyError):
        kafka.render_properties("x=${nope}", kafka_port=1, controller_port=2, data_dir=Path("/d"))


def test_kafka_version_comes_from_the_pom(tmp_path: Path) -> None:
    assert kafka.kafka_version() == "3.9.2"
    bare = tmp_path / "pom.xml"
    bare.write_text('<project xmlns="http://maven.apache.org/POM/4.0.0"><properties/></project>')

    with pytest.raises(StackError):
        kafka.kafka_version(bare)


# -- install cache and missing tools ------------------------------------------------------


def fake_cached_install(cache_dir: Path) -> None:
    libs = kafka.libs_dir(cache_dir)
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-3.9.2.jar").write_bytes(b"")
    (libs.parent / "installed").write_text(kafka._fingerprint(kafka.POM) + "\n")
    binary = opa.binary_path(cache_dir)
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)


def test_cached_jars_are_used_without_maven(tmp_path: Path, monkeypatch) -> None:
    fake_cached_install(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no mvn, no go
    lines: list[str] = []

    stack.install(settings(tmp_path), lines.append)

    assert lines == ["kafka: 3.9.2 jars cached (1 files)", f"opa: {opa.OPA_VERSION} cached"]


def test_jars_fetched_for_another_pom_are_not_reused(tmp_path: Path) -> None:
    fake_cached_install(tmp_path)
    (kafka.libs_dir(tmp_path).parent / "installed").write_text("fingerprint of an older pom\n")

    assert kafka.installed_libs(tmp_path) is None


def test_missing_tool_message_is_the_hint() -> None:
    with pytest.raises(StackError) as failure:
        processes.require_tool("java", kafka.JAVA_HINT, which=lambda _: None)

    assert str(failure.value) == (
        "Java 17 is needed to run Kafka: apt-get install openjdk-17-jre-headless"
    )
    assert processes.require_tool("java", kafka.JAVA_HINT, which=lambda _: "/j") == "/j"


@pytest.mark.parametrize(
    ("cached", "action", "hint"),
    [
        (False, "install", kafka.MAVEN_HINT),
        (True, "up", kafka.JAVA_HINT),
    ],
)
def test_missing_tools_stop_the_stack_with_their_hint(
    tmp_path: Path, monkeypatch, cached: bool, action: str, hint: str
) -> None:
    if cached:
        fake_cached_install(tmp_path / "cache")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(StackError) as failure:
        getattr(stack, action)(settings(tmp_path / "cache"), lambda _: None)

    assert str(failure.value) == hint
    assert "\n" not in hint


def test_missing_go_is_named_when_only_opa_needs_building(tmp_path: Path, monkeypatch) -> None:
    fake_cached_install(tmp_path)
    opa.binary_path(tmp_path).unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(StackError) as failure:
        opa.install(tmp_path, lambda _: None)

    assert str(failure.value) == opa.GO_HINT


# -- the public API without a running stack -----------------------------------------------


def settings(cache_dir: Path) -> stack.StackSettings:
    return stack.StackSettings(
        state_dir=cache_dir.parent / "state",
        cache_dir=cache_dir,
        policies_dir=cache_dir.parent / "policies",
        kafka_port=free_port(),
        controller_port=free_port(),
        opa_port=free_port(),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_settings_addresses() -> None:
    s = stack.StackSettings(Path("s"), Path("c"), Path("p"), kafka_port=1, opa_port=2)

    assert s.bootstrap_servers == "127.0.0.1:1"
    assert s.opa_url == "http://127.0.0.1:2"


def test_status_and_down_of_a_stack_never_started(tmp_path: Path) -> None:
    s = settings(tmp_path / "cache")
    lines: list[str] = []

    statuses = stack.status(s)
    stack.down(s, lines.append)

    assert [(x.name, x.running, x.pid) for x in statuses] == [
        ("kafka", False, None),
        ("opa", False, None),
    ]
    assert lines == ["opa: not running", "kafka: not running"]
