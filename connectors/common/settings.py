"""Connector settings, each declared once with its type, default, check and description.

Loading reports every problem at once, naming the setting and the bad value
(setting values are configuration, not personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from schemas.kafka_security import SASL_PLAINTEXT, UNAUTHENTICATED, KafkaSecurity

_MISSING = object()


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    description: str
    default: Any = _MISSING
    check: Callable[[Any], str | None] | None = None  # returns a problem, or None

    @property
    def required(self) -> bool:
        return self.default is _MISSING


class ConfigError(Exception):
    """The configuration has problems; all of them are listed."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))


def load_settings(declared: Sequence[Setting], raw: dict[str, Any], source: str) -> dict[str, Any]:
    problems: list[str] = []
    values: dict[str, Any] = {}
    known = {s.name for s in declared}
    for name in sorted(set(raw) - known):
        problems.append(f"unknown setting '{name}'")
    for s in declared:
        if s.name not in raw or raw[s.name] is None:
            if s.required:
                problems.append(f"setting '{s.name}' is required ({s.description})")
            else:
                values[s.name] = s.default
            continue
        value = raw[s.name]
        if s.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if s.type is str and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, s.type) or (s.type is int and isinstance(value, bool)):
            problems.append(f"setting '{s.name}' must be {s.type.__name__}, got {value!r}")
            continue
        problem = s.check(value) if s.check else None
        if problem:
            problems.append(f"setting '{s.name}' = {value!r}: {problem}")
            continue
        values[s.name] = value
    if problems:
        raise ConfigError(source, problems)
    return values


def positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def one_of(options: Sequence[str]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in options else f"must be one of {', '.join(options)}"

    return check


def la_code(value: str) -> str | None:
    return None if len(value) == 3 and value.isdigit() else "must be the three-digit DfE LA number"


def identifier_name(value: str) -> str | None:
    ok = value and all(c.isalnum() or c in "-_" for c in value)
    return None if ok else "use letters, digits, '-' and '_' only"


#: Settings every connector has, whatever its source.
COMMON_SETTINGS: tuple[Setting, ...] = (
    Setting("connector", str, "Which kind of connector this file configures."),
    Setting(
        "name",
        str,
        "Name of this connector instance; part of every event id.",
        check=identifier_name,
    ),
    Setting("la_code", str, "DfE three-digit LA number of the authority.", check=la_code),
    Setting("kafka_bootstrap", str, "Kafka bootstrap servers.", "127.0.0.1:9092"),
    Setting("batch_size", int, "Records read and published per batch.", 2000, positive),
    Setting(
        "poll_interval_s", float, "Seconds between polls when there is nothing new.", 2.0, positive
    ),
    Setting("state_dir", str, "Where the connector keeps its position.", ".chorus/connectors"),
    Setting(
        "topic_prefix",
        str,
        "Prefix of every topic name, to share a cluster between environments.",
        "",
    ),
    Setting("kafka_username", str, "Kafka user (SASL/SCRAM) the connector writes as.", ""),
    Setting("kafka_password_file", str, "File holding that Kafka user's password.", ""),
    Setting(
        "kafka_security_protocol",
        str,
        "SASL_PLAINTEXT or SASL_SSL when kafka_username is set (default SASL_PLAINTEXT).",
        "",
    ),
    Setting(
        "kafka_ca_file",
        str,
        "SASL_SSL: the CA certificate that signed the brokers' certificates (empty: the "
        "system's trusted CAs).",
        "",
    ),
)


def read_settings_file(path: Path) -> dict[str, Any]:
    """The raw setting: value mapping of a YAML file, or a ConfigError saying why not."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML ({exc.__class__.__name__})"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["must be a mapping of setting: value"])
    return raw


def kafka_security_of(settings: dict[str, Any]) -> KafkaSecurity:
    """How the connector authenticates: kafka_username and kafka_password_file, if set,
    over kafka_security_protocol, trusting kafka_ca_file for SASL_SSL."""
    username = settings.get("kafka_username") or ""
    if not username:
        return UNAUTHENTICATED
    path = Path(settings.get("kafka_password_file") or "")
    try:
        password = path.read_text(encoding="utf-8").strip() if path.name else ""
        return KafkaSecurity(
            protocol=settings.get("kafka_security_protocol") or SASL_PLAINTEXT,
            username=username,
            password=password,
            ca_file=settings.get("kafka_ca_file") or "",
        )
    except OSError as exc:
        raise ConfigError("kafka", [f"setting 'kafka_password_file': {exc.strerror}"]) from None
    except ValueError as exc:
        raise ConfigError("kafka", [f"kafka_username {username}: {exc}"]) from None
