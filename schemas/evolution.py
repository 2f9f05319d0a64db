"""Schema evolution: every change must stay readable by the newest reader.

A schema version is *released* when it is written into ``schemas/lock.json``
(``chorus schemas lock``). The lock keeps each released version's full schema,
so readers can still resolve events written with it. ``chorus schemas check``
fails when a schema in the tree cannot read data written with a released
version (Avro backward compatibility: new reader, old writer), or when a
changed schema keeps its old ``schema_version``.

The rules are the Avro specification's schema-resolution rules. fastavro
resolves at read time but does not offer a compatibility check before data
exists, hence this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_PATH = Path(__file__).parent / "lock.json"
PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def _kind(t: Any) -> str:
    if isinstance(t, list):
        return "union"
    if isinstance(t, dict):
        return t["type"] if isinstance(t["type"], str) else _kind(t["type"])
    return t


def _unwrap(t: Any) -> Any:
    """A {"type": "int", "logicalType": ...} annotation reads as its underlying type."""
    if isinstance(t, dict) and t.get("type") not in (
        "record",
        "enum",
        "array",
        "map",
        "fixed",
        "error",
    ):
        return t["type"]
    return t


def incompatibilities(reader: Any, writer: Any, path: str = "") -> list[str]:
    """Why `reader` cannot read data written with `writer` (empty when it can).

    Both are standalone (expanded) schemas; named types appear in full at first use.
    """
    names: dict[str, Any] = {}
    return _check(reader, writer, path or "<root>", names, names, set())


def _resolve(t: Any, named: dict[str, Any]) -> Any:
    if isinstance(t, str) and t in named:
        return named[t]
    if (
        isinstance(t, dict)
        and "name" in t
        and t.get("type") in ("record", "enum", "fixed", "error")
    ):
        named.setdefault(t["name"], t)
    return t


def _check(r: Any, w: Any, path: str, rn: dict, wn: dict, seen: set) -> list[str]:
    r, w = _unwrap(_resolve(r, rn)), _unwrap(_resolve(w, wn))
    rk, wk = _kind(r), _kind(w)
    if wk == "union":
        problems = []
        for branch in w:
            if _union_match(r, branch, path, rn, wn, seen):
                problems.extend(_union_match(r, branch, path, rn, wn, seen))
        return problems
    if rk == "union":
        for branch in r:
            if not _check(branch, w, path, rn, wn, seen):
                return []
        return [f"{path}: the new union has no branch that reads the old {wk}"]
    if rk != wk:
        if wk in PROMOTIONS and rk in PROMOTIONS[wk]:
            return []
        return [f"{path}: type changed from {wk} to {rk}"]
    if rk == "record":
        key = (r["name"], w["name"])
        if key in seen:
            return []
        seen = seen | {key}
        problems = []
        wfields = {f["name"]: f for f in w["fields"]}
        for wf in w["fields"]:
            for alias in wf.get("aliases", []):
                wfields.setdefault(alias, wf)
        for rf in r["fields"]:
            wf = wfields.get(rf["name"]) or next(
                (wfields[a] for a in rf.get("aliases", []) if a in wfields), None
            )
            if wf is None:
                if "default" not in rf:
                    problems.append(f"{path}.{rf['name']}: new field without a default")
                continue
            problems.extend(_check(rf["type"], wf["type"], f"{path}.{rf['name']}", rn, wn, seen))
        return problems
    if rk == "enum":
        missing = sorted(set(w["symbols"]) - set(r["symbols"]))
        if missing and "default" not in r:
            return [f"{path}: enum symbols removed without a default: {', '.join(missing)}"]
        return []
    if rk == "array":
        return _check(r["items"], w["items"], f"{path}[]", rn, wn, seen)
    if rk == "map":
        return _check(r["values"], w["values"], f"{path}{{}}", rn, wn, seen)
    if rk == "fixed" and r.get("size") != w.get("size"):
        return [f"{path}: fixed size changed"]
    return []


def _union_match(r: Any, wbranch: Any, path: str, rn: dict, wn: dict, seen: set) -> list[str]:
    """Problems reading one writer union branch; empty when some reader branch reads it."""
    readers = r if isinstance(r, list) else [r]
    attempts = [_check(rb, wbranch, path, rn, wn, seen) for rb in readers]
    if any(not a for a in attempts):
        return []
    kind = _kind(_unwrap(_resolve(wbranch, wn)))
    return [f"{path}: the old union branch {kind} can no longer be read"]


@dataclass(frozen=True)
class Released:
    event_type: str
    version: int
    fingerprint: str
    schema: dict[str, Any]


def load_lock(path: Path = LOCK_PATH) -> dict[str, list[Released]]:
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {
        et: [Released(et, v["version"], v["fingerprint"], v["schema"]) for v in versions]
        for et, versions in doc["event_types"].items()
    }


def write_lock(lock: dict[str, list[Released]], path: Path = LOCK_PATH) -> None:
    doc = {
        "about": "Released schema versions; written by `chorus schemas lock`, checked by "
        "`chorus schemas check`. Do not edit by hand.",
        "event_types": {
            et: [
                {"version": r.version, "fingerprint": r.fingerprint, "schema": r.schema}
                for r in sorted(versions, key=lambda r: r.version)
            ]
            for et, versions in sorted(lock.items())
        },
    }
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def check(catalogue: Any, lock: dict[str, list[Released]]) -> list[str]:
    """Problems that make the schemas in the tree unsafe to deploy (empty when none)."""
    problems: list[str] = []
    current = {et: catalogue.latest(et) for et in catalogue.event_types()}
    for et, schema in sorted(current.items()):
        released = lock.get(et, [])
        if not released:
            problems.append(f"{et}: not released yet; run `chorus schemas lock`")
            continue
        last = released[-1]
        if last.fingerprint == schema.fingerprint.hex():
            continue
        if schema.version <= last.version:
            problems.append(
                f"{et}: changed but schema_version is still {schema.version}; "
                f"raise it to {last.version + 1}"
            )
        for old in released:
            for why in incompatibilities(schema.schema, old.schema):
                problems.append(f"{et} v{schema.version} cannot read v{old.version}: {why}")
        problems.append(f"{et}: v{schema.version} not released yet; run `chorus schemas lock`")
    for et in sorted(set(lock) - set(current)):
        problems.append(f"{et}: removed, but released events of this type exist; restore it")
    return problems


def blocking(problems: list[str]) -> list[str]:
    """The problems `chorus schemas lock` cannot fix by releasing."""
    return [p for p in problems if "not released yet" not in p]


def release(catalogue: Any, lock: dict[str, list[Released]]) -> list[str]:
    """Add every new compatible version to the lock; returns what was released."""
    done = []
    for et in catalogue.event_types():
        schema = catalogue.latest(et)
        versions = lock.setdefault(et, [])
        if versions and versions[-1].fingerprint == schema.fingerprint.hex():
            continue
        versions.append(Released(et, schema.version, schema.fingerprint.hex(), schema.schema))
        done.append(f"{et} v{schema.version}")
    return done
