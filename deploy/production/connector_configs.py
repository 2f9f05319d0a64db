"""The connector configuration files the production deployment ships, one per connector kind.

They are ordinary connector files (``chorus connector check`` reads them; settings in
``connectors/common/settings.py`` and each kind's ``SETTINGS``), pointing at the places
the deployment mounts: the position under ``/var/lib/chorus/connectors``, drop folders
under ``/srv/chorus``, credentials under ``/run/secrets/source``. Kafka's address and the
connector's Kafka user come from the environment (``CHORUS_KAFKA_*``), which wins over
the file. Passwords are never in these files: the case-management database password
comes from libpq's ``PGPASSWORD``, the FHIR server's header from ``auth_header_file``.
An LA edits the addresses (``source_url``, ``base_url``) and its LA code for its systems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploy.production.common import STATE_DIR, dump

SOURCE_SECRETS_DIR = "/run/secrets/source"
LA_CODE = "999"  # the DfE LA number; replace with the authority's own

_CONFIGS: dict[str, dict[str, Any]] = {
    "case_management": {
        "connector": "case_management",
        "name": "lcs-main",
        "source_url": "postgresql+psycopg://chorus_reader@case-management-db:5432/ssd",
        "source_system": "LIQUIDLOGIC_LCS",
        "tables": "all",
        "mode": "changes",
    },
    "education_files": {
        "connector": "education_files",
        "name": "school-exports",
        "inbox": "/srv/chorus/education",
        "ready_when": "marker",
        "move_processed": True,
        "source_system": "OTHER",
    },
    "health_fhir": {
        "connector": "health_fhir",
        "name": "health-visiting",
        "source": "server",
        "source_system": "SYSTMONE",
        "base_url": "https://fhir.community-health.example.nhs.uk/fhir",
        "auth_header_name": "Authorization",
        "auth_header_file": f"{SOURCE_SECRETS_DIR}/auth-header",
    },
}


@dataclass(frozen=True)
class SourceSecret:
    """A Secret (Kubernetes) or secret files (compose) the operator creates for a connector.

    ``files``: keys mounted as files under ``mount``. ``env``: environment variable ->
    key, set from the Secret (Kubernetes) or from ``secrets/<name>.env`` (compose).
    """

    name: str
    mount: str = SOURCE_SECRETS_DIR
    files: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


_SECRETS: dict[str, SourceSecret] = {
    # libpq (psycopg) reads the database password from PGPASSWORD.
    "case_management": SourceSecret(
        "chorus-connector-case-management-source", env={"PGPASSWORD": "password"}
    ),
    "health_fhir": SourceSecret("chorus-connector-health-fhir-source", files=("auth-header",)),
}


def connector_settings(kind: str, kafka_bootstrap: str) -> dict[str, Any]:
    settings = dict(_CONFIGS[kind])
    settings.update(
        {
            "la_code": LA_CODE,
            "kafka_bootstrap": kafka_bootstrap,
            "state_dir": f"{STATE_DIR}/connectors",
        }
    )
    return settings


def connector_config(kind: str, kafka_bootstrap: str) -> str:
    """The connector's YAML file, as mounted at /etc/chorus/<kind>.connector.yaml."""
    return dump(connector_settings(kind, kafka_bootstrap))


def connector_secret(kind: str) -> SourceSecret | None:
    return _SECRETS.get(kind)
