"""Settings of the case-management (SQL) connector, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.common.settings import ConfigError, Setting, load_settings, one_of, positive

SOURCE_SYSTEMS = (
    "LIQUIDLOGIC_LCS",
    "LIQUIDLOGIC_EHM",
    "MOSAIC",
    "ECLIPSE",
    "CAREDIRECTOR",
    "AZEUS",
    "OTHER",
)


def _la_code(value: str) -> str | None:
    return None if len(value) == 3 and value.isdigit() else "must be the three-digit DfE LA number"


def _name(value: str) -> str | None:
    ok = value and all(c.isalnum() or c in "-_" for c in value)
    return None if ok else "use letters, digits, '-' and '_' only"


SETTINGS = (
    Setting(
        "connector", str, "Which connector this file configures.", check=one_of(["case_management"])
    ),
    Setting("name", str, "Name of this connector instance; part of every event id.", check=_name),
    Setting("source_url", str, "SQLAlchemy URL of the case-management database (SSD shape)."),
    Setting("source_system", str, "Kind of source system.", "OTHER", one_of(SOURCE_SYSTEMS)),
    Setting("la_code", str, "DfE three-digit LA number of the authority.", check=_la_code),
    Setting("kafka_bootstrap", str, "Kafka bootstrap servers.", "127.0.0.1:9092"),
    Setting("batch_size", int, "Rows read and published per batch.", 2000, positive),
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
)


@dataclass(frozen=True)
class CaseManagementConfig:
    connector: str
    name: str
    source_url: str
    source_system: str
    la_code: str
    kafka_bootstrap: str
    batch_size: int
    poll_interval_s: float
    state_dir: str
    topic_prefix: str

    @property
    def position_path(self) -> Path:
        return Path(self.state_dir) / f"{self.name}.position.json"


def parse(raw: dict[str, Any], source: str = "config") -> CaseManagementConfig:
    return CaseManagementConfig(**load_settings(SETTINGS, raw, source))


def load(path: Path, overrides: dict[str, Any] | None = None) -> CaseManagementConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML ({exc.__class__.__name__})"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["must be a mapping of setting: value"])
    raw.update(overrides or {})
    return parse(raw, str(path))
