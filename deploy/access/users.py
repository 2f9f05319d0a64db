"""Kafka SCRAM users for the principals of an access plan.

Passwords come from a :class:`~deploy.secrets.LocalSecrets` folder: on the local
secured stack the folder under ``$CHORUS_HOME`` (generated on first use); in
production a folder of password files from the deployment's secret store
(``chorus access apply --passwords-dir DIR``). Rotation replaces a user's password
with the one now in its file. No password is ever printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient
from kafka.admin._users import ScramMechanism, UserScramCredentialUpsertion

from deploy.access.plan import ADMIN, AccessPlan
from deploy.secrets import LocalSecrets

MECHANISM = ScramMechanism.SCRAM_SHA_512


class UserError(Exception):
    """Kafka refused to create or change a user; one line for the user."""


@dataclass(frozen=True)
class UserChanges:
    created: tuple[str, ...]
    rotated: tuple[str, ...]
    unchanged: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"users: created {len(self.created)}, rotated {len(self.rotated)}, "
            f"unchanged {len(self.unchanged)}"
        )

    def lines(self) -> list[str]:
        return [f"+ User:{u}" for u in self.created] + [f"~ User:{u}" for u in self.rotated]


def existing_users(admin: KafkaAdminClient) -> set[str]:
    described = admin.describe_user_scram_credentials()
    return {
        user
        for user, info in described.items()
        if not info["error"] and any(c["mechanism"] == MECHANISM for c in info["credential_infos"])
    }


def ensure_users(
    admin: KafkaAdminClient,
    plan: AccessPlan,
    passwords: LocalSecrets,
    rotate: Iterable[str] = (),
    dry_run: bool = False,
) -> UserChanges:
    """Create every missing user of the plan (not the admin) and re-set those in ``rotate``."""
    names = sorted(p.name for p in plan.principals if p.name != ADMIN)
    present = existing_users(admin)
    rotate = set(rotate)
    unknown = rotate - set(names)
    if unknown:
        raise UserError(f"--rotate: {', '.join(sorted(unknown))} is not a principal of the plan")
    created = tuple(n for n in names if n not in present)
    rotated = tuple(sorted(n for n in rotate if n in present))
    unchanged = tuple(n for n in names if n in present and n not in rotate)
    if dry_run:
        return UserChanges(created, rotated, unchanged)
    upserts = [
        UserScramCredentialUpsertion(n, MECHANISM, passwords.password(n)) for n in created + rotated
    ]
    if upserts:
        refused = {u: e for u, e in admin.alter_user_scram_credentials(upserts).items() if e}
        if refused:
            user, error = sorted(refused.items())[0]
            raise UserError(f"Kafka refused to set the SCRAM credential of {user}: {error}")
    _wait_for_users(admin, set(created))
    return UserChanges(created, rotated, unchanged)


def _wait_for_users(admin: KafkaAdminClient, names: set[str], timeout_s: float = 120.0) -> None:
    """A broker that has just started can take a while to know users the controller made."""
    began = time.monotonic()
    while not names <= existing_users(admin):
        if time.monotonic() - began > timeout_s:
            raise UserError(f"the broker did not know the new users within {timeout_s:.0f} s")
        time.sleep(0.5)
