"""The environment variables Chorus reads, declared once (read only by the entry point)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class EnvError(Exception):
    """An environment variable has an unusable value."""


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str
    description: str


ENV_VARS = (
    EnvVar("CHORUS_HOME", ".chorus", "State directory: Kafka data, logs, PID files, positions."),
    EnvVar(
        "CHORUS_CACHE", "~/.cache/chorus", "Download cache: Kafka jars and the built OPA binary."
    ),
    EnvVar("CHORUS_KAFKA_PORT", "9092", "Port of the local Kafka broker."),
    EnvVar("CHORUS_KAFKA_CONTROLLER_PORT", "9093", "Port of the local KRaft controller."),
    EnvVar("CHORUS_OPA_PORT", "8181", "Port of the local OPA server."),
    EnvVar(
        "CHORUS_KAFKA_BOOTSTRAP", "", "Kafka to use instead of the local stack (host:port,...)."
    ),
    EnvVar("CHORUS_OPA_URL", "", "OPA to use instead of the local stack (http://host:port)."),
    EnvVar(
        "CHORUS_TOPIC_PREFIX", "", "Prefix of every topic name (environments sharing a cluster)."
    ),
    EnvVar(
        "CHORUS_MODE",
        "development",
        "development or production; production refuses default secrets.",
    ),
    EnvVar("CHORUS_PSEUDONYM_KEY", "", "Master pseudonymisation key (at least 32 characters)."),
    EnvVar("CHORUS_PSEUDONYM_KEY_FILE", "", "File holding the master pseudonymisation key."),
    EnvVar(
        "CHORUS_KAFKA_SECURITY",
        "plaintext",
        "Local stack: plaintext, or sasl (SCRAM users, ACLs, no anonymous access).",
    ),
    EnvVar(
        "CHORUS_KAFKA_SECURITY_PROTOCOL",
        "",
        "Client protocol: PLAINTEXT, SASL_PLAINTEXT or SASL_SSL (SASL_PLAINTEXT with a user).",
    ),
    EnvVar("CHORUS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "SASL mechanism of Kafka clients."),
    EnvVar("CHORUS_KAFKA_USERNAME", "", "Kafka user (principal) this process authenticates as."),
    EnvVar("CHORUS_KAFKA_PASSWORD", "", "Its password (prefer CHORUS_KAFKA_PASSWORD_FILE)."),
    EnvVar("CHORUS_KAFKA_PASSWORD_FILE", "", "File holding the Kafka user's password."),
    EnvVar("CHORUS_KAFKA_CA_FILE", "", "CA certificate of the brokers (SASL_SSL)."),
)


def env_help() -> str:
    lines = ["environment:"]
    for v in ENV_VARS:
        default = f" (default: {v.default})" if v.default else ""
        lines.append(f"  {v.name:<30} {v.description}{default}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Environment:
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        declared = {v.name: v.default for v in ENV_VARS}
        if name not in declared:
            raise KeyError(f"{name} is not a declared Chorus environment variable")
        return self.values.get(name) or declared[name]

    def path(self, name: str) -> Path:
        return Path(self.get(name)).expanduser()

    def port(self, name: str) -> int:
        raw = self.get(name)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise EnvError(f"{name}={raw!r} is not a port number")
        return int(raw)
