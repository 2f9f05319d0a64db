"""What every command needs from the environment: where the stack is and how to reach it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deploy.environment import Environment

if TYPE_CHECKING:
    from deploy.local.stack import StackSettings
    from schemas.kafka_security import KafkaSecurity

REPO_ROOT = Path(__file__).resolve().parents[2]


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def stack_settings(env: Environment) -> StackSettings:
    from deploy.local.stack import StackSettings

    return StackSettings(
        state_dir=env.path("CHORUS_HOME").resolve(),
        cache_dir=env.path("CHORUS_CACHE"),
        policies_dir=REPO_ROOT / "policies",
        kafka_port=env.port("CHORUS_KAFKA_PORT"),
        controller_port=env.port("CHORUS_KAFKA_CONTROLLER_PORT"),
        opa_port=env.port("CHORUS_OPA_PORT"),
        security="sasl" if local_stack_secured(env) else "plaintext",
    )


def bootstrap(env: Environment) -> str:
    return env.get("CHORUS_KAFKA_BOOTSTRAP") or stack_settings(env).bootstrap_servers


def opa_url(env: Environment) -> str:
    return env.get("CHORUS_OPA_URL") or stack_settings(env).opa_url


def kafka_security(env: Environment) -> KafkaSecurity:
    """How this process authenticates to Kafka: CHORUS_KAFKA_USERNAME and its password.

    With no user name the client is unauthenticated (PLAINTEXT), as on the development
    stack. On the local secured stack a user's password may come from its local store.
    """
    from deploy.secrets import LocalSecrets, SecretError, kafka_password
    from schemas.kafka_security import PLAINTEXT, SASL_PLAINTEXT, KafkaSecurity

    username = env.get("CHORUS_KAFKA_USERNAME")
    protocol = env.get("CHORUS_KAFKA_SECURITY_PROTOCOL") or (
        SASL_PLAINTEXT if username else PLAINTEXT
    )
    if protocol == PLAINTEXT:
        return KafkaSecurity()
    if not username:
        raise SecretError(f"CHORUS_KAFKA_SECURITY_PROTOCOL={protocol} needs CHORUS_KAFKA_USERNAME")
    local = LocalSecrets.under(env.path("CHORUS_HOME").resolve())
    try:
        return KafkaSecurity(
            protocol=protocol,
            mechanism=env.get("CHORUS_KAFKA_SASL_MECHANISM"),
            username=username,
            password=kafka_password(env, username, local),
            ca_file=env.get("CHORUS_KAFKA_CA_FILE"),
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None


def admin_security(env: Environment) -> KafkaSecurity:
    """Credentials for administration (topics, users, ACLs).

    CHORUS_KAFKA_USERNAME when set (production: the admin user and its password file);
    otherwise, on the local secured stack, its own ``admin`` user.
    """
    if env.get("CHORUS_KAFKA_USERNAME") or not local_stack_secured(env):
        return kafka_security(env)
    from deploy.local.secured import admin_security as stack_admin_security

    return stack_admin_security(env.path("CHORUS_HOME").resolve())


def local_stack_secured(env: Environment) -> bool:
    mode = env.get("CHORUS_KAFKA_SECURITY")
    if mode not in ("plaintext", "sasl"):
        raise UserError(f"CHORUS_KAFKA_SECURITY={mode!r}: use plaintext or sasl")
    return mode == "sasl"
