"""The secured local stack (CHORUS_KAFKA_SECURITY=sasl): SCRAM users, ACLs, no anonymous access.

The broker's own passwords (the ``admin`` super user and the broker-to-controller
``controller`` user) are generated into ``$CHORUS_HOME/secrets/kafka/`` (mode 0600) the
first time the stack starts; ``admin`` is written into the KRaft storage when it is
formatted. The rendered ``server.properties`` holds them too and is written with mode
0600. Every other user is created by ``chorus access apply`` (``chorus stack up`` runs
it). Nothing here ever prints a password.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from deploy.secrets import LocalSecrets
from schemas.kafka_security import SASL_PLAINTEXT, KafkaSecurity

CONFIG_DIR = Path(__file__).resolve().parent / "kafka"
SECURED_TEMPLATE = CONFIG_DIR / "secured.properties.template"

ADMIN = "admin"
CONTROLLER = "controller"
MECHANISM = "SCRAM-SHA-512"
MODES = ("plaintext", "sasl")


def local_secrets(state_dir: Path) -> LocalSecrets:
    return LocalSecrets.under(state_dir)


def admin_security(state_dir: Path) -> KafkaSecurity:
    """The stack's super user, for its own administration."""
    return KafkaSecurity(
        protocol=SASL_PLAINTEXT,
        mechanism=MECHANISM,
        username=ADMIN,
        password=local_secrets(state_dir).password(ADMIN),
    )


def listener_values(mode: str) -> dict[str, str]:
    """The listener placeholders of server.properties.template for a security mode."""
    if mode not in MODES:
        raise ValueError(f"Kafka security mode {mode!r}: use one of {MODES}")
    protocol = SASL_PLAINTEXT if mode == "sasl" else "PLAINTEXT"
    return {"listener": protocol, "controller_protocol": protocol}


def secured_properties(state_dir: Path) -> str:
    secrets = local_secrets(state_dir)
    return Template(SECURED_TEMPLATE.read_text()).substitute(
        admin_password=secrets.password(ADMIN),
        controller_password=secrets.password(CONTROLLER),
    )


def format_arguments(state_dir: Path) -> tuple[str, ...]:
    """Extra `kafka-storage format` arguments: the admin's SCRAM credential."""
    password = local_secrets(state_dir).password(ADMIN)
    return ("--add-scram", f"{MECHANISM}=[name={ADMIN},password={password}]")
