"""The schema catalogue: every Avro schema under ``schemas/avro``, loaded once.

Schema files hold one named type each. Files whose record carries an
``event_type`` attribute are event schemas; the rest are named types they
refer to (the envelope, code lists, ...). The catalogue expands each event
schema into a standalone schema, computes its parsing canonical form and
CRC-64-AVRO fingerprint, and indexes it by fingerprint (for readers) and by
event type (for writers). For every source event type it also derives the
schema of the event as a purpose receives it (see ``schemas.share``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.share import derive_share_schema

AVRO_DIR = Path(__file__).parent / "avro"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


@dataclass(frozen=True)
class EventSchema:
    """One version of one event type's schema."""

    event_type: str
    name: str
    version: int
    schema: dict[str, Any]  # standalone (expanded) JSON schema
    parsed: Any  # fastavro parsed schema
    canonical: str
    fingerprint: bytes  # 8 bytes, little-endian CRC-64-AVRO


def _fullname(schema: dict[str, Any], namespace: str | None) -> str:
    name = schema["name"]
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


def _expand(node: Any, named: dict[str, dict], defined: set[str], namespace: str | None) -> Any:
    """Inline each referenced named type at its first use only.

    fastavro's own expansion inlines a type at every use, which defines the
    same name twice and is not a valid schema to take a canonical form of.
    """
    if isinstance(node, str):
        if node in PRIMITIVES:
            return node
        full = node if "." in node else (f"{namespace}.{node}" if namespace else node)
        if full in defined:
            return full
        if full not in named:
            raise KeyError(f"schema refers to unknown type '{full}'")
        return _expand(named[full], named, defined, namespace)
    if isinstance(node, list):
        return [_expand(branch, named, defined, namespace) for branch in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        full = _fullname(node, namespace)
        if full in defined:
            return full
        defined.add(full)
        out = dict(node)
        out["name"] = full
        out.pop("namespace", None)
        if kind in ("record", "error"):
            ns = full.rsplit(".", 1)[0] if "." in full else None
            out["fields"] = [
                {**f, "type": _expand(f["type"], named, defined, ns)} for f in node["fields"]
            ]
        return out
    if kind == "array":
        return {**node, "items": _expand(node["items"], named, defined, namespace)}
    if kind == "map":
        return {**node, "values": _expand(node["values"], named, defined, namespace)}
    if isinstance(kind, dict | list) or (isinstance(kind, str) and kind not in PRIMITIVES):
        return {**node, "type": _expand(kind, named, defined, namespace)}
    return node


def _index_named(node: Any, named: dict[str, dict], namespace: str | None) -> None:
    """Register every named type defined anywhere inside a schema file."""
    if isinstance(node, list):
        for branch in node:
            _index_named(branch, named, namespace)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        full = _fullname(node, namespace)
        named[full] = node
        ns = full.rsplit(".", 1)[0] if "." in full else None
        for f in node.get("fields", []):
            _index_named(f["type"], named, ns)
    elif kind == "array":
        _index_named(node["items"], named, namespace)
    elif kind == "map":
        _index_named(node["values"], named, namespace)
    elif isinstance(kind, dict | list):
        _index_named(kind, named, namespace)


def make_event_schema(schema: dict[str, Any]) -> EventSchema:
    """Build an EventSchema from a standalone schema with an event_type attribute."""
    parsed = fastavro.parse_schema(schema)
    canonical = to_parsing_canonical_form(parsed)
    # fastavro renders the CRC-64-AVRO value as its little-endian bytes in hex,
    # which is the byte order the single-object header uses.
    fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    return EventSchema(
        event_type=schema["event_type"],
        name=schema["name"],
        version=int(schema.get("schema_version", 1)),
        schema=schema,
        parsed=parsed,
        canonical=canonical,
        fingerprint=fp,
    )


class Catalogue:
    """Fingerprint-to-schema and event-type-to-schema lookups, built once at start."""

    def __init__(self, schemas: list[EventSchema], released: list[EventSchema] = ()) -> None:
        self._by_fp: dict[bytes, EventSchema] = {}
        self._latest: dict[str, EventSchema] = {}
        for s in released:
            self._by_fp[s.fingerprint] = s  # older writers, readable through resolution
        for s in schemas:
            self.register(s)

    def register(self, schema: EventSchema) -> None:
        """Register the tree's schema of an event type: writers use it, readers resolve to it."""
        self._by_fp[schema.fingerprint] = schema
        self._latest[schema.event_type] = schema

    def by_fingerprint(self, fp: bytes) -> EventSchema | None:
        return self._by_fp.get(fp)

    def latest(self, event_type: str) -> EventSchema:
        try:
            return self._latest[event_type]
        except KeyError:
            raise KeyError(f"no schema for event type '{event_type}' in schemas/avro") from None

    def event_types(self) -> list[str]:
        return sorted(self._latest)

    def __iter__(self):
        return iter(self._by_fp.values())


def load_named_types(avro_dir: Path = AVRO_DIR) -> tuple[dict[str, dict], list[dict]]:
    """Read every .avsc file: all named types, and the event schemas among them."""
    named: dict[str, dict] = {}
    events: list[dict] = []
    for path in sorted(avro_dir.rglob("*.avsc")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        _index_named(doc, named, None)
        if isinstance(doc, dict) and "event_type" in doc:
            events.append(doc)
    return named, events


def build_catalogue(avro_dir: Path = AVRO_DIR, lock_path: Path | None = None) -> Catalogue:
    """Every schema in the tree, plus every released older version (readable as a writer)."""
    from schemas.evolution import LOCK_PATH, load_lock

    named, events = load_named_types(avro_dir)
    released = [
        make_event_schema(v.schema)
        for versions in load_lock(lock_path or LOCK_PATH).values()
        for v in versions
    ]
    schemas: list[EventSchema] = []
    for doc in events:
        expanded = _expand(doc, named, set(), None)
        source = make_event_schema(expanded)
        schemas.append(source)
        if "." in source.event_type and not source.event_type.startswith("platform."):
            shared = _expand(derive_share_schema(doc), named, set(), None)
            schemas.append(make_event_schema(shared))
    return Catalogue(schemas, released)


@cache
def default_catalogue() -> Catalogue:
    """The catalogue of the schemas shipped in this package (built once per process)."""
    return build_catalogue()
