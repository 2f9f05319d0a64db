"""The local Kafka: jars from Maven (cached), storage formatted once, KRaft single node.

Layout:

- ``<cache_dir>/kafka-<version>/libs/``: the broker's jars, fetched once with Maven from
  ``deploy/local/kafka/pom.xml`` (the only place the Kafka version is written);
- ``<state_dir>/kafka/``: the rendered ``server.properties``, ``cluster.id`` and ``data/``
  (topics and the KRaft metadata log; survives restarts);
- ``<state_dir>/logs/``: ``server.log`` (log4j) and ``kafka.out`` (stdout and stderr);
- ``<state_dir>/run/kafka.pid``.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from deploy.local import secured
from deploy.local.processes import StackError, require_tool, run_tool, start_detached
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity
from schemas.topics import TopicSpec

CONFIG_DIR = Path(__file__).resolve().parent / "kafka"
POM = CONFIG_DIR / "pom.xml"
PROPERTIES_TEMPLATE = CONFIG_DIR / "server.properties.template"
LOG4J = CONFIG_DIR / "log4j.properties"

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
HEAP = ("-Xms256m", "-Xmx1g")

JAVA_HINT = "Java 17 is needed to run Kafka: apt-get install openjdk-17-jre-headless"
MAVEN_HINT = "Maven is needed to fetch the Kafka jars (once): apt-get install maven"

_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def kafka_version(pom: Path = POM) -> str:
    """The ``kafka.version`` property of the pom: the Kafka the stack runs."""
    node = ET.parse(pom).getroot().find("m:properties/m:kafka.version", _POM_NS)
    if node is None or not (node.text or "").strip():
        raise StackError(f"{pom} has no <kafka.version> property")
    return node.text.strip()


@dataclass(frozen=True)
class Layout:
    """Where one stack's Kafka keeps its files, all under ``state_dir``."""

    state_dir: Path

    @property
    def home(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def cluster_id_file(self) -> Path:
        return self.home / "cluster.id"

    @property
    def security_file(self) -> Path:
        """The security mode the storage was formatted for (plaintext or sasl)."""
        return self.home / "security"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def out_log(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "run" / "kafka.pid"

    @property
    def markers(self) -> tuple[str, ...]:
        """What our broker's command line contains: the main class and our properties file."""
        return (MAIN_CLASS, str(self.properties))


# -- install ------------------------------------------------------------------------------


def libs_dir(cache_dir: Path, pom: Path = POM) -> Path:
    return cache_dir / f"kafka-{kafka_version(pom)}" / "libs"


def _fingerprint(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _jar_count(libs: Path) -> int:
    return sum(1 for _ in libs.glob("*.jar"))


def installed_libs(cache_dir: Path, pom: Path = POM) -> Path | None:
    """The cached libs directory if a complete fetch for this exact pom is there."""
    libs = libs_dir(cache_dir, pom)
    marker = libs.parent / "installed"
    if libs.is_dir() and marker.is_file() and marker.read_text().strip() == _fingerprint(pom):
        return libs
    return None


def install(cache_dir: Path, log: Callable[[str], None], pom: Path = POM) -> Path:
    """Make sure the jars are in the cache (Maven runs only the first time); return libs/."""
    libs = installed_libs(cache_dir, pom)
    if libs is not None:
        log(f"kafka: {kafka_version(pom)} jars cached ({_jar_count(libs)} files)")
        return libs
    mvn = require_tool("mvn", MAVEN_HINT)
    libs = libs_dir(cache_dir, pom)
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.monotonic()
    _copy_dependencies(mvn, pom, staging)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    # Written last: a fetch interrupted half way leaves no marker and is redone.
    (libs.parent / "installed").write_text(_fingerprint(pom) + "\n")
    elapsed = time.monotonic() - started
    log(f"kafka: fetched {_jar_count(libs)} jars with Maven in {elapsed:.1f} s")
    return libs


def _copy_dependencies(mvn: str, pom: Path, target: Path) -> None:
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
        "-DincludeScope=runtime",
    ]
    run_tool(argv, "Fetching the Kafka jars with Maven")


# -- configuration and storage ------------------------------------------------------------


def render_properties(
    template: str, *, kafka_port: int, controller_port: int, data_dir: Path, mode: str = "plaintext"
) -> str:
    """Fill in the server.properties template; unknown placeholders are an error."""
    values = {"kafka_port": kafka_port, "controller_port": controller_port, "data_dir": data_dir}
    return Template(template).substitute(values, **secured.listener_values(mode))


def java_argv(
    java: str, libs: Path, logs_dir: Path, main: str, *args: str, heap: Iterable[str] = ()
) -> list[str]:
    return [
        java,
        *heap,
        f"-Dlog4j.configuration={LOG4J.as_uri()}",
        f"-Dkafka.logs.dir={logs_dir}",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def _cluster_id(java: str, libs: Path, layout: Layout) -> str:
    if layout.cluster_id_file.is_file():
        return layout.cluster_id_file.read_text().strip()
    out = run_tool(
        java_argv(java, libs, layout.logs_dir, STORAGE_TOOL, "random-uuid"), "Kafka random-uuid"
    )
    # The id is the last line; log4j warnings, if any, come before it.
    cluster_id = out.strip().splitlines()[-1].strip()
    layout.cluster_id_file.write_text(cluster_id + "\n")
    return cluster_id


def format_storage_once(java: str, libs: Path, layout: Layout, mode: str = "plaintext") -> bool:
    """Format the KRaft storage unless it already is; True if it was formatted now."""
    if (layout.data_dir / "meta.properties").exists():
        formatted_for = (
            layout.security_file.read_text().strip() if layout.security_file.is_file() else ""
        )
        if (formatted_for or "plaintext") != mode:
            raise StackError(
                f"the Kafka storage in {layout.home} was made for {formatted_for or 'plaintext'}, "
                f"not {mode} (CHORUS_KAFKA_SECURITY): use another CHORUS_HOME"
            )
        return False
    cluster_id = _cluster_id(java, libs, layout)
    format_args = ("format", "-t", cluster_id, "-c", str(layout.properties))
    if mode == "sasl":
        format_args += secured.format_arguments(layout.state_dir)
    argv = java_argv(java, libs, layout.logs_dir, STORAGE_TOOL, *format_args)
    run_tool(argv, "Formatting the Kafka storage")
    layout.security_file.write_text(mode + "\n")
    return True


# -- start and health ---------------------------------------------------------------------


def start(
    libs: Path, layout: Layout, *, kafka_port: int, controller_port: int, mode: str = "plaintext"
) -> tuple[int, bool]:
    """Render the config, format storage if new, start the broker; (pid, formatted now)."""
    java = require_tool("java", JAVA_HINT)
    for directory in (layout.home, layout.data_dir, layout.logs_dir):
        directory.mkdir(parents=True, exist_ok=True)
    text = render_properties(
        PROPERTIES_TEMPLATE.read_text(),
        kafka_port=kafka_port,
        controller_port=controller_port,
        data_dir=layout.data_dir,
        mode=mode,
    )
    if mode == "sasl":
        text += secured.secured_properties(layout.state_dir)
    # Owner only: on the secured stack it holds the broker's own passwords.
    layout.properties.touch(mode=0o600)
    layout.properties.chmod(0o600)
    layout.properties.write_text(text)
    formatted = format_storage_once(java, libs, layout, mode)
    argv = java_argv(java, libs, layout.logs_dir, MAIN_CLASS, str(layout.properties), heap=HEAP)
    return start_detached(argv, layout.out_log, layout.pid_file), formatted


def _split(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    return host, int(port)


def _port_open(bootstrap: str, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection(_split(bootstrap), timeout=timeout_s):
            return True
    except OSError:
        return False


def admin_client(
    bootstrap: str, timeout_s: float = 10.0, security: KafkaSecurity = UNAUTHENTICATED
) -> KafkaAdminClient:
    timeout_ms = int(timeout_s * 1000)
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="chorus-stack",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        **security.kafka_python(),
    )


def describe(
    bootstrap: str, timeout_s: float = 5.0, security: KafkaSecurity = UNAUTHENTICATED
) -> dict | None:
    """Cluster metadata if the broker answers, else None (never raises for a down broker)."""
    # A plain TCP probe first: while the port is closed there is no point building an
    # admin client, which would only log connection errors.
    if not _port_open(bootstrap):
        return None
    try:
        admin = admin_client(bootstrap, timeout_s, security)
    except (KafkaError, OSError):
        return None
    try:
        return admin.describe_cluster()
    except (KafkaError, OSError):
        return None
    finally:
        admin.close()


def answers(
    bootstrap: str, timeout_s: float = 5.0, security: KafkaSecurity = UNAUTHENTICATED
) -> bool:
    cluster = describe(bootstrap, timeout_s, security)
    return bool(cluster and cluster.get("brokers"))


# -- topics -------------------------------------------------------------------------------


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    timeout_s: float = 30.0,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> tuple[list[str], list[str]]:
    """Create the catalogue topics that are missing.

    Returns (created, drift): names created now, and one line per existing topic whose
    partition count differs from the catalogue (reported, never changed: adding
    partitions would move keys between partitions).
    """
    specs = list(specs)
    try:
        with admin_client(bootstrap, timeout_s, security) as admin:
            existing = _partition_counts(admin.describe_topics())
            missing = [s for s in specs if s.name not in existing]
            if missing:
                _create(admin, missing)
                admin.wait_for_topics([s.name for s in missing], timeout_ms=int(timeout_s * 1000))
    except KafkaError as exc:
        raise StackError(f"could not create the catalogue topics on {bootstrap}: {exc!r}") from exc
    drift = [
        f"{s.name} has {existing[s.name]} partitions, the catalogue says {s.partitions}"
        for s in specs
        if s.name in existing and existing[s.name] != s.partitions
    ]
    return [s.name for s in missing], drift


def _partition_counts(topics: Iterable[Mapping]) -> dict[str, int]:
    return {t["name"]: len(t["partitions"]) for t in topics if t.get("error_code", 0) == 0}


def _create(admin: KafkaAdminClient, specs: list[TopicSpec]) -> None:
    request = {
        s.name: {
            "num_partitions": s.partitions,
            "replication_factor": 1,
            "configs": s.kafka_config(),
        }
        for s in specs
    }
    result = admin.create_topics(request, raise_errors=False)
    problems = [
        f"{t['name']}: {t.get('error_message') or t['error_code']}"
        for t in result["topics"]
        if t["error_code"] not in (0, TopicAlreadyExistsError.errno)
    ]
    if problems:
        raise StackError("Kafka refused to create topics: " + "; ".join(problems))
