"""What every command needs from the environment: where the stack is and how to reach it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deploy.environment import Environment

if TYPE_CHECKING:
    from deploy.local.stack import StackSettings

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
    )


def bootstrap(env: Environment) -> str:
    return env.get("CHORUS_KAFKA_BOOTSTRAP") or stack_settings(env).bootstrap_servers


def opa_url(env: Environment) -> str:
    return env.get("CHORUS_OPA_URL") or stack_settings(env).opa_url
