"""The data dictionary: every event and field, generated from the schemas' docs.

`chorus schemas dictionary` writes schemas/DICTIONARY.md; a test fails when the
committed file is not what the schemas generate, so it never goes stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.catalogue import Catalogue

DICTIONARY_PATH = Path(__file__).parent / "DICTIONARY.md"
# Records every event carries, documented once at the top rather than in every event.
COMMON = ("chorus.common.Envelope", "chorus.platform.ShareEnvelope")


def _type_name(t: Any) -> str:
    if isinstance(t, list):
        branches = [_type_name(b) for b in t if b != "null"]
        text = " or ".join(branches)
        return f"{text} (optional)" if "null" in t else text
    if isinstance(t, str):
        return t.rsplit(".", 1)[-1]
    kind = t.get("type")
    if t.get("logicalType"):
        return t["logicalType"]
    if kind in ("record", "enum", "fixed", "error"):
        return f"{kind} {t['name'].rsplit('.', 1)[-1]}"
    if kind == "array":
        return f"array of {_type_name(t['items'])}"
    if kind == "map":
        return f"map of {_type_name(t['values'])}"
    return _type_name(kind)


def _rows(schema: dict[str, Any], prefix: str, out: list[str], enums: dict[str, dict]) -> None:
    for field in schema["fields"]:
        name = f"{prefix}{field['name']}"
        doc = " ".join(field.get("doc", "").split()).replace("|", "\\|")
        out.append(f"| `{name}` | {_type_name(field['type'])} | {doc} |")
        for inner in _named_inside(field["type"]):
            if inner["type"] == "enum":
                enums.setdefault(inner["name"], inner)
            elif inner["type"] in ("record", "error") and inner["name"] not in COMMON:
                _rows(inner, f"{name}.", out, enums)


def _named_inside(t: Any) -> list[dict[str, Any]]:
    if isinstance(t, list):
        return [n for b in t for n in _named_inside(b)]
    if not isinstance(t, dict):
        return []
    if t.get("type") in ("record", "error", "enum"):
        return [t]
    if t.get("type") == "array":
        return _named_inside(t["items"])
    if t.get("type") == "map":
        return _named_inside(t["values"])
    return []


def render(catalogue: Catalogue) -> str:
    lines = [
        "# Chorus data dictionary",
        "",
        "Generated from the Avro schemas in `schemas/avro` by `chorus schemas dictionary`; "
        "do not edit by hand. Every event carries the envelope `chorus.common.Envelope`. "
        "`share.*` types are the forms purposes receive (see `schemas/share.py`).",
        "",
    ]
    lines += _common_section(catalogue)
    for et in catalogue.event_types():
        s = catalogue.latest(et)
        lines += [
            f"## `{et}` (version {s.version})",
            "",
            " ".join(s.schema.get("doc", "").split()),
            "",
        ]
        rows: list[str] = []
        enums: dict[str, dict] = {}
        _rows(s.schema, "", rows, enums)
        lines += ["| field | type | meaning |", "|---|---|---|", *rows, ""]
        for name in sorted(enums):
            e = enums[name]
            lines.append(
                f"- **{name.rsplit('.', 1)[-1]}**: {', '.join(f'`{x}`' for x in e['symbols'])}"
            )
        if enums:
            lines.append("")
    return "\n".join(lines)


def _find(t: Any, name: str) -> dict[str, Any] | None:
    for inner in _named_inside(t):
        if inner["name"] == name:
            return inner
        if inner["type"] in ("record", "error"):
            for f in inner["fields"]:
                hit = _find(f["type"], name)
                if hit:
                    return hit
    return None


def _common_section(catalogue: Catalogue) -> list[str]:
    lines: list[str] = []
    for name in COMMON:
        record = next(
            (r for s in catalogue for r in [_find(s.schema, name)] if r is not None), None
        )
        if record is None:
            continue
        rows: list[str] = []
        enums: dict[str, dict] = {}
        _rows(record, "", rows, enums)
        lines += [f"## `{name}`", "", " ".join(record.get("doc", "").split()), ""]
        lines += ["| field | type | meaning |", "|---|---|---|", *rows, ""]
        for ename in sorted(enums):
            e = enums[ename]
            lines.append(
                f"- **{ename.rsplit('.', 1)[-1]}**: {', '.join(f'`{x}`' for x in e['symbols'])}"
            )
        lines.append("")
    return lines
