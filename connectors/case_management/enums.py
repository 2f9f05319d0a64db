"""Code lists as the contract declares them: the symbols of the schemas' Avro enums.

Mappings check codes against these, so a code list lives in one place (the schema).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas.catalogue import load_named_types


@cache
def _named() -> dict[str, dict[str, Any]]:
    return load_named_types()[0]


@cache
def enum(name: str) -> frozenset[str]:
    """The symbols of a named Avro enum, e.g. ``enum("chorus.case_management.Rne")``."""
    node = _named().get(name)
    if node is None or node.get("type") != "enum":
        raise KeyError(f"no Avro enum named {name}")
    return frozenset(node["symbols"])
