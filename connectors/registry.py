"""Every kind of connector, by the `connector:` value of its configuration file.

`load` builds a connector from its file, reporting every configuration problem
at once; `check` then tests the live connections to the source and to Kafka.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from connectors.common.base import Connector
from connectors.common.settings import (
    COMMON_SETTINGS,
    ConfigError,
    kafka_security_of,
    load_settings,
    read_settings_file,
)
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

#: kind -> "module:Class". Modules are imported only when their kind is used.
KINDS: dict[str, str] = {
    "case_management": "connectors.case_management.connector:CaseManagementConnector",
    "education_files": "connectors.education.connector:EducationFilesConnector",
    "health_fhir": "connectors.health.connector:FhirConnector",
}


def connector_class(kind: str) -> type[Connector]:
    module, _, cls = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), cls)


def settings_for(kind: str) -> tuple:
    return COMMON_SETTINGS + tuple(connector_class(kind).SETTINGS)


def parse(raw: dict[str, Any], source: str = "config") -> Connector:
    kind = raw.get("connector")
    if kind not in KINDS:
        raise ConfigError(
            source, [f"setting 'connector' = {kind!r}: must be one of {', '.join(sorted(KINDS))}"]
        )
    return connector_class(kind)(load_settings(settings_for(kind), raw, source))


def load(path: Path, overrides: dict[str, Any] | None = None) -> Connector:
    raw = read_settings_file(path)
    raw.update(overrides or {})
    return parse(raw, str(path))


def kafka_problems(
    bootstrap: str, timeout_s: float = 10.0, security: KafkaSecurity = UNAUTHENTICATED
) -> list[str]:
    """Whether the brokers answer, as one line per problem."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="chorus-connector-check",
            request_timeout_ms=int(timeout_s * 1000),
            **security.kafka_python(),
        )
    except (KafkaError, OSError, ValueError) as exc:
        return [f"kafka at {bootstrap} is not reachable ({type(exc).__name__})"]
    try:
        admin.list_topics()
    except (KafkaError, OSError) as exc:
        return [f"kafka at {bootstrap} did not answer ({type(exc).__name__})"]
    finally:
        admin.close()
    return []


def check(path: Path, overrides: dict[str, Any] | None = None) -> list[str]:
    """Every configuration problem; when there are none, every live connection problem."""
    try:
        connector = load(path, overrides)
    except ConfigError as err:
        return err.problems
    try:
        settings = connector.settings
        security = kafka_security_of(settings)
        return connector.check_source() + kafka_problems(
            settings["kafka_bootstrap"], 10.0, security
        )
    finally:
        connector.close()
