"""Make a cluster's ACLs match an access plan: describe, diff, create and delete.

Only ACLs of Chorus principals (those in the plan, and any ``chorus-*`` or
``recipient-*`` user, such as a recipient since removed from the policy data) on
resources under the plan's topic prefix are managed; anything else on the cluster is
left alone. Applying twice changes nothing the second time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient
from kafka.admin._acls import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)

from deploy.access.plan import AccessPlan, Acl

MANAGED_USER_PREFIXES = ("chorus-", "recipient-")
ANY_HOST = "*"


class AccessError(Exception):
    """Kafka refused to change an ACL; one line for the user."""


@dataclass(frozen=True)
class AclChanges:
    added: tuple[Acl, ...]
    removed: tuple[Acl, ...]
    unchanged: tuple[Acl, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, removed {len(self.removed)}, unchanged {len(self.unchanged)}"
        )

    def lines(self) -> list[str]:
        return [f"+ {a.line()}" for a in self.added] + [f"- {a.line()}" for a in self.removed]


def diff(plan: AccessPlan, existing: Iterable[Acl], prefix: str = "") -> AclChanges:
    """What to add and remove so the managed part of ``existing`` equals the plan."""
    wanted = set(plan.acls)
    principals = {p.name for p in plan.principals}
    managed = {a for a in existing if _managed(a, principals, prefix)}
    return AclChanges(
        added=tuple(sorted(wanted - managed)),
        removed=tuple(sorted(managed - wanted)),
        unchanged=tuple(sorted(wanted & managed)),
    )


def _managed(acl: Acl, principals: set[str], prefix: str) -> bool:
    ours = acl.principal in principals or acl.principal.startswith(MANAGED_USER_PREFIXES)
    in_scope = acl.resource_type == "CLUSTER" or acl.resource_name.startswith(prefix)
    return ours and in_scope


# -- kafka-python conversions ---------------------------------------------------------------


def to_kafka(acl: Acl) -> ACL:
    return ACL(
        principal=f"User:{acl.principal}",
        host=ANY_HOST,
        operation=ACLOperation[acl.operation],
        permission_type=ACLPermissionType[acl.permission],
        resource_pattern=ResourcePattern(
            ResourceType[acl.resource_type],
            acl.resource_name,
            ACLResourcePatternType[acl.pattern_type],
        ),
    )


def from_kafka(acl: ACL) -> Acl | None:
    """The plan's form of a cluster ACL; None for ACLs not on a user or not on any host."""
    kind, _, name = acl.principal.partition(":")
    if kind != "User" or acl.host != ANY_HOST:
        return None
    pattern = acl.resource_pattern
    return Acl(
        principal=name,
        resource_type=ResourceType(pattern.resource_type).name,
        resource_name=pattern.resource_name,
        pattern_type=ACLResourcePatternType(pattern.pattern_type).name,
        operation=ACLOperation(acl.operation).name,
        permission=ACLPermissionType(acl.permission_type).name,
    )


def existing_acls(admin: KafkaAdminClient) -> list[Acl]:
    everything = ACLFilter(
        principal=None,
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    acls, _ = admin.describe_acls(everything)
    return [a for a in (from_kafka(acl) for acl in acls) if a is not None]


def apply_acls(
    admin: KafkaAdminClient, plan: AccessPlan, prefix: str = "", dry_run: bool = False
) -> AclChanges:
    """Create the missing ACLs and delete the ones the plan no longer has."""
    changes = diff(plan, existing_acls(admin), prefix)
    if dry_run or not changes.changed:
        return changes
    if changes.added:
        result = admin.create_acls([to_kafka(a) for a in changes.added])
        if result["failed"]:
            raise AccessError(f"Kafka refused {len(result['failed'])} ACLs: {result['failed'][0]}")
    if changes.removed:
        for _, _, error in admin.delete_acls([to_kafka(a) for a in changes.removed]):
            if error.errno:
                raise AccessError(f"Kafka refused to delete ACLs: {error.__name__}")
    wait_until_applied(admin, plan, prefix)
    return changes


def wait_until_applied(
    admin: KafkaAdminClient, plan: AccessPlan, prefix: str = "", timeout_s: float = 120.0
) -> float:
    """Wait until the broker enforces what the controller accepted; the seconds it took.

    The controller commits ACL changes at once, but a broker that has just started can
    take a while to load them into its authorizer (and to answer DescribeAcls with them).
    """
    began = time.monotonic()
    while diff(plan, existing_acls(admin), prefix).changed:
        if time.monotonic() - began > timeout_s:
            raise AccessError(f"the broker did not show the new ACLs within {timeout_s:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - began
