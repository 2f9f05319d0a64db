"""Dated code sets: statutory code lists that change from one collection year to the next.

Closed, stable code lists are Avro enums in the schemas. Lists that the DfE
revises yearly (the SSDA903 placement type, the reason an episode ceased) are
``string`` fields instead, checked by ``schemas.validation`` against a code set
here: ``schemas/codesets/<name>.yaml``, a header comment naming the source, then

.. code-block:: yaml

    name: placement_type
    field: PLACE
    entries:
      - code: K3
        description: Supported accommodation ...
        valid_from: 2023-10-28
        valid_to: null

``valid_from`` and ``valid_to`` are inclusive. ``valid_to: null`` means the code is
still in force. ``valid_from: null`` means the code was already in use in the
earliest specification checked and its start is not recorded. The same code may
appear more than once if it was withdrawn and reintroduced, but its periods must
not overlap.

Loading is pure and cached; a malformed file raises ``ValueError`` naming the
file and entry, never guessing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CODESET_DIR", "Code", "CodeSet", "load", "names"]

CODESET_DIR = Path(__file__).parent
_NAME = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)


@dataclass(frozen=True)
class Code:
    """One code and the period it may be used in."""

    code: str
    description: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def in_force(self, on: dt.date) -> bool:
        """True when the code may be used on the date ``on``."""
        on = _day(on)
        if self.valid_from is not None and on < self.valid_from:
            return False
        return self.valid_to is None or on <= self.valid_to


@dataclass(frozen=True)
class CodeSet:
    """A dated code list, as read from ``schemas/codesets/<name>.yaml``."""

    name: str
    field: str
    entries: tuple[Code, ...]

    def codes(self, on: dt.date) -> set[str]:
        """The codes in force on ``on``."""
        return {e.code for e in self.entries if e.in_force(on)}

    def is_valid(self, code: str, on: dt.date) -> bool:
        """True when ``code`` is in the set and in force on ``on``."""
        return any(e.code == code and e.in_force(on) for e in self.entries)

    def is_known(self, code: str) -> bool:
        """True when ``code`` is in the set at any date."""
        return any(e.code == code for e in self.entries)

    def all_codes(self) -> set[str]:
        """Every code the set has ever held."""
        return {e.code for e in self.entries}

    def describe(self, code: str) -> str | None:
        """The description of ``code`` (its latest entry), or None when unknown."""
        found = [e for e in self.entries if e.code == code]
        return found[-1].description if found else None


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _date(value: Any, where: str, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {key} must be an ISO date (YYYY-MM-DD) or null")


def _parse(name: str, doc: Any, source: str) -> CodeSet:
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise ValueError(f"{source}: expected a mapping with an 'entries' list")
    if doc.get("name") != name:
        raise ValueError(f"{source}: 'name' must be '{name}'")
    entries: list[Code] = []
    for i, raw in enumerate(doc["entries"]):
        where = f"{source} entry {i}"
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping")
        missing = {"code", "description", "valid_from", "valid_to"} - raw.keys()
        if missing:
            raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
        code, description = raw["code"], raw["description"]
        if not isinstance(code, str) or not code.strip() or code != code.strip():
            raise ValueError(f"{where}: code must be a non-empty string without spaces around it")
        if not isinstance(description, str) or not description.strip():
            raise ValueError(f"{where}: description must be a non-empty string")
        start = _date(raw["valid_from"], where, "valid_from")
        end = _date(raw["valid_to"], where, "valid_to")
        if start is not None and end is not None and end < start:
            raise ValueError(f"{where}: valid_to is before valid_from")
        entries.append(Code(code, description.strip(), start, end))
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if a.code == b.code and _overlap(a, b):
                raise ValueError(f"{source}: code {a.code} has overlapping periods")
    field = doc.get("field")
    if not isinstance(field, str) or not field:
        raise ValueError(f"{source}: 'field' (the source field the set codes) is required")
    return CodeSet(name=name, field=field, entries=tuple(entries))


def _overlap(a: Code, b: Code) -> bool:
    lo, hi = dt.date.min, dt.date.max
    return (a.valid_from or lo) <= (b.valid_to or hi) and (b.valid_from or lo) <= (a.valid_to or hi)


@cache
def load(name: str) -> CodeSet:
    """The code set ``schemas/codesets/<name>.yaml`` (read once per process)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError("code set names are lower-case snake_case")
    path = CODESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(f"no code set '{name}' in schemas/codesets")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return _parse(name, doc, f"schemas/codesets/{name}.yaml")


def names() -> list[str]:
    """The names of every code set shipped in this package."""
    return sorted(p.stem for p in CODESET_DIR.glob("*.yaml"))
