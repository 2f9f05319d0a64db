"""`chorus policy push`: build a bundle of a policy folder and load it into the running OPA.

Running workers pick the new revision up without a restart: their policy client
checks the revision every few seconds and empties its decision cache when it changes.

How (OPA's REST API, next to the stack's ``--watch`` on policies/):

1. ``opa build`` checks and compiles the folder into a bundle whose manifest carries
   the revision: a digest of the folder's content and the time, ``3f2a9c1e0b7d-20260601T101500Z``;
2. ``data.chorus_policy_revision`` is set to ``{"state": "pushing", ...}``: from then on the
   policy client refuses every answer from OPA (it reads each answer together with this
   record, in one consistent view), so the gatekeeper waits rather than decide with
   half-loaded policies;
3. the bundle's data replaces each of its top-level documents (``PUT /v1/data/<key>``);
   modules that changed or are gone are deleted, and the bundle's modules are put under
   the ids OPA already uses for the same files (``PUT /v1/policies/<id>``), each compiled
   by OPA, in whatever order lets each compile;
4. the record becomes ``{"state": "pushed", "revision": ..., "digest": ...}`` with the
   digest of what OPA now holds. The client reports that revision while OPA still holds
   exactly that content.

If OPA refuses a step, everything is put back as it was, the record too, and the command
says what OPA refused. When the stack's OPA later sees a file under policies/ change, it
reloads the folder from disk: the disk wins, and the revision becomes the digest of
what is loaded, until the next push.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from deploy.commands.common import UserError
from deploy.local import opa
from deploy.local.processes import StackError

LOADED_SUFFIXES = (".rego", ".yaml", ".yml", ".json")


@dataclass(frozen=True)
class PushResult:
    revision: str
    bundle: Path
    changed: list[str]
    added: list[str]
    deleted: list[str]
    data_keys: list[str]


def folder_digest(policies_dir: Path) -> str:
    """A digest of every file OPA loads from the folder (names and contents)."""
    h = hashlib.sha256()
    for path in sorted(policies_dir.rglob("*")):
        rel = path.relative_to(policies_dir)
        if any(part.startswith(".") for part in rel.parts) or path.suffix not in LOADED_SUFFIXES:
            continue
        if path.is_file():
            h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def make_revision(policies_dir: Path, now: dt.datetime) -> str:
    return f"{folder_digest(policies_dir)}-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def module_ids(loaded: list[str], bundle_paths: list[str]) -> dict[str, str]:
    """The OPA id each bundle module goes to: the id of the module OPA holds for the same file.

    The stack's OPA names a module by its file path (``work/main/policies/sharing/x.rego``);
    a bundle by its path inside the folder (``sharing/x.rego``). A new file goes next to
    the others.
    """
    ids: dict[str, str] = {}
    roots: list[str] = []
    for path in bundle_paths:
        match = next((i for i in loaded if i == path or i.endswith("/" + path)), None)
        if match is not None:
            ids[path] = match
            roots.append(match[: len(match) - len(path)])
    root = max(set(roots), key=roots.count) if roots else "chorus-policy-push/"
    for path in bundle_paths:
        ids.setdefault(path, root + path)
    return ids


def put_modules(opa_url: str, modules: dict[str, str]) -> None:
    """Put every module, in whatever order lets each compile against those already put."""
    waiting = dict(sorted(modules.items()))
    while waiting:
        refused: dict[str, StackError] = {}
        for policy_id, text in waiting.items():
            try:
                opa.put_policy(opa_url, policy_id, text)
            except StackError as exc:
                refused[policy_id] = exc
        if len(refused) == len(waiting):
            raise next(iter(refused.values()))
        waiting = {i: waiting[i] for i in refused}


@dataclass
class Snapshot:
    """What OPA held before a push, to put back if the push fails."""

    modules: dict[str, str]
    data: dict[str, object]
    marker: object


def snapshot(opa_url: str, data_keys: list[str], marker_key: str) -> Snapshot:
    modules = {p["id"]: p.get("raw", "") for p in opa.list_policies(opa_url)}
    data = {key: opa.get_data(opa_url, key) for key in data_keys}
    return Snapshot(modules, data, opa.get_data(opa_url, marker_key))


def restore(opa_url: str, before: Snapshot, marker_key: str) -> None:
    """Put back the modules and data of `before`, then its push record."""
    now = {p["id"] for p in opa.list_policies(opa_url)}
    for policy_id in sorted(now):
        opa.delete_policy(opa_url, policy_id)
    for key, value in before.data.items():
        if value is not None:
            opa.put_data(opa_url, key, value)
    put_modules(opa_url, before.modules)
    if before.marker is None:
        opa.delete_data(opa_url, marker_key)
    else:
        opa.put_data(opa_url, marker_key, before.marker)


def push(opa_url: str, binary: Path, policies_dir: Path, work_dir: Path) -> PushResult:
    from streams.policy_client import PUSHED, PUSHING, REVISION_MARKER, PolicyClient

    policies_dir = policies_dir.resolve()
    if not policies_dir.is_dir():
        raise UserError(f"policy folder {policies_dir} does not exist")
    now = dt.datetime.now(dt.UTC)
    revision = make_revision(policies_dir, now)
    try:
        bundle = opa.build_bundle(binary, policies_dir, revision, work_dir / f"{revision}.tar.gz")
        before = snapshot(opa_url, sorted(bundle.data), REVISION_MARKER)
    except StackError as exc:
        raise UserError(str(exc)) from None
    ids = module_ids(list(before.modules), sorted(bundle.modules))
    wanted = {ids[path]: text for path, text in bundle.modules.items()}
    to_put = {i: t for i, t in wanted.items() if before.modules.get(i) != t}
    deleted = sorted(set(before.modules) - set(wanted))
    started = {"state": PUSHING, "revision": revision, "started_at": now.isoformat()}
    try:
        opa.put_data(opa_url, REVISION_MARKER, started)
        for key in sorted(bundle.data):
            opa.put_data(opa_url, key, bundle.data[key])
        for policy_id in sorted(set(to_put) & set(before.modules)) + deleted:
            opa.delete_policy(opa_url, policy_id)
        put_modules(opa_url, to_put)

        async def digest() -> str:
            client = PolicyClient(opa_url)
            try:
                return await client.content_digest()
            finally:
                await client.close()

        pushed = {
            "state": PUSHED,
            "revision": revision,
            "digest": asyncio.run(digest()),
            "pushed_at": now.isoformat(),
            "source": str(policies_dir),
        }
        opa.put_data(opa_url, REVISION_MARKER, pushed)
    except Exception as exc:
        try:
            restore(opa_url, before, REVISION_MARKER)
        except StackError as again:
            raise UserError(
                f"policy push failed ({exc}) and so did putting back what OPA held before "
                f"({again}); OPA refuses decisions until a push succeeds: fix the folder and "
                "run `chorus policy push` again"
            ) from None
        if isinstance(exc, StackError):
            raise UserError(f"policy push refused, nothing changed: {exc}") from None
        raise
    changed = sorted(set(to_put) & set(before.modules))
    added = sorted(set(to_put) - set(before.modules))
    return PushResult(revision, bundle.path, changed, added, deleted, sorted(bundle.data))


def current_revision(opa_url: str) -> str:
    from streams.policy_client import PolicyClient

    async def ask() -> str:
        client = PolicyClient(opa_url)
        try:
            return await client.current_revision()
        finally:
            await client.close()

    return asyncio.run(ask())


def run_push(opa_url: str, binary: Path, policies_dir: Path, work_dir: Path) -> int:
    before = current_revision(opa_url)
    result = push(opa_url, binary, policies_dir, work_dir)
    after = current_revision(opa_url)
    print(f"policy push: built {result.bundle} (revision {result.revision})")
    print(f"  data replaced: {', '.join(result.data_keys) or 'none'}")
    for label, ids in (
        ("modules changed", result.changed),
        ("added", result.added),
        ("deleted", result.deleted),
    ):
        print(f"  {label}: {', '.join(ids) if ids else 'none'}")
    print(f"  OPA at {opa_url}: revision {before} -> {after}")
    if after != result.revision:
        print(
            "policy push: OPA's content changed while pushing (did a file under the watched "
            "folder change?); push again"
        )
        return 1
    print("  running workers pick it up within their revision poll (5 s by default)")
    return 0
