"""Field transforms the sharing policy asks for, applied to one event (pure functions).

A field the decision does not name is withheld: nothing is shared by default.

A transform names a top-level field (``text``) or a path to a field inside a
record (``scope.purpose``) or inside each element of a list of records
(``items[].text``). A nested transform applies inside a parent that is kept:
``items: keep`` with ``items[].text: redact`` keeps the items and redacts their
text. A nested field that no transform names is kept with its parent. Inside a
record the shared schema keeps the source types, so nested values are not
rewritten to ISO strings the way top-level dates are.

``redact`` replaces free text by a marker; ``scrub`` keeps the words and replaces
the identifying details in them (names, NHS numbers, dates ...; streams/scrubbing.py).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ContractError
from streams.pseudonyms import Pseudonymiser
from streams.scrubbing import scrub

REDACTED = "[redacted]"
AGE_BANDS = ((0, 0, "under 1"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 200, "16+"))
TRANSFORMS = frozenset(
    {"keep", "pseudonymise", "month", "year", "district", "age_band", "redact", "scrub", "drop"}
)
EACH = "[]"  # a path segment ending in [] is a list: what follows applies to each element


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _generalise_date(value: Any, to: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dt.date):
        raise ContractError("transform.not_a_date", f"cannot generalise a non-date to {to}")
    return f"{value.year:04d}-{value.month:02d}" if to == "month" else f"{value.year:04d}"


def postcode_district(postcode: str | None) -> str | None:
    """The outward code of a UK postcode ('OL1 3AB' -> 'OL1')."""
    if not postcode:
        return None
    compact = postcode.replace(" ", "").upper()
    return compact[:-3] if len(compact) > 3 else None


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


@dataclass
class Released:
    """What one decision released from one event.

    ``transformed`` pairs each released path with its transform; ``withheld``
    lists the paths withheld. Nested paths read like ``items[].text``.
    """

    fields: dict[str, Any]
    transformed: list[tuple[str, str]] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


@dataclass
class _Node:
    """One field of the plan: its transform (None: kept with its parent) and nested fields."""

    action: str | None = None
    each: bool = False  # the field is a list whose elements the children address
    children: dict[str, _Node] = field(default_factory=dict)


def parse_path(path: str) -> list[tuple[str, bool]]:
    """``items[].text`` -> [("items", True), ("text", False)]: names, and whether each is a list."""
    segments = []
    for part in path.split("."):
        each = part.endswith(EACH)
        name = part[: -len(EACH)] if each else part
        if not name:
            raise ContractError(
                "policy.bad_path", f"the policy names an empty field in '{path}'", field=path
            )
        segments.append((name, each))
    if segments[-1][1]:
        raise ContractError(
            "policy.bad_path",
            f"'{path}' ends in []; name a field of the elements, e.g. '{path}.text'",
            field=path,
        )
    return segments


def _plan(transforms: dict[str, str]) -> dict[str, _Node]:
    root: dict[str, _Node] = {}
    for path, action in transforms.items():
        nodes, node = root, None
        for name, each in parse_path(path):
            node = nodes.setdefault(name, _Node())
            node.each = node.each or each
            nodes = node.children
        assert node is not None
        node.action = action
    return root


def _transform(
    value: Any, action: str, path: str, pseudonymiser: Pseudonymiser, purpose: str, top: bool
) -> Any:
    if action == "keep":
        return _iso(value) if top else value
    if action in ("month", "year"):
        return _generalise_date(value, action)
    if action == "pseudonymise":
        return None if value is None else pseudonymiser.pseudonym(purpose, path, str(value))
    if action == "district":
        return postcode_district(value)
    if action == "age_band":
        return age_band(value)
    if action == "redact":
        return None if value is None else REDACTED
    if action == "scrub":
        if value is not None and not isinstance(value, str):
            raise ContractError("transform.not_text", "cannot scrub a value that is not text")
        return None if value is None else scrub(value)
    if action == "drop":
        return None
    raise ContractError(
        "policy.unknown_transform",
        f"the policy asks for an unknown transform '{action}'; see policies/data/purposes.yaml",
        field=path,
    )


def _apply_nested(
    value: Any,
    node: _Node,
    path: str,
    out: Released,
    pseudonymiser: Pseudonymiser,
    purpose: str,
) -> None:
    """Apply `node`'s nested transforms inside `value` (a record or list of records), in place."""
    if value is None:
        elements: list[Any] = []
    elif node.each:
        if not isinstance(value, list):
            raise ContractError("policy.bad_path", f"'{path}' is not a list", field=path)
        elements = value
    else:
        elements = [value]
    prefix = f"{path}{EACH}" if node.each else path
    for name, child in node.children.items():
        child_path = f"{prefix}.{name}"
        action = child.action or "keep"
        if child.children and action != "keep":
            raise ContractError(
                "policy.nested_without_keep",
                f"the policy transforms fields inside '{child_path}' but does not keep it",
                field=child_path,
            )
        for element in elements:
            if not isinstance(element, dict):
                raise ContractError("policy.bad_path", f"'{prefix}' is not a record", field=path)
            if name not in element:
                continue
            element[name] = _transform(
                element[name], action, child_path, pseudonymiser, purpose, top=False
            )
            if child.children:
                _apply_nested(element[name], child, child_path, out, pseudonymiser, purpose)
        if action == "drop":
            out.withheld.append(child_path)
        elif child.action is not None:
            out.transformed.append((child_path, action))


def apply_transforms(
    record: dict[str, Any],
    transforms: dict[str, str],
    pseudonymiser: Pseudonymiser,
    purpose: str,
) -> Released:
    """Apply the decision's transforms to the payload fields (everything but the envelope)."""
    plan = _plan(transforms)
    out = Released(fields={})
    for name, value in record.items():
        if name == "envelope":
            continue
        node = plan.get(name)
        action = node.action if node else None
        if node is None or action is None or action == "drop":
            out.fields[name] = None
            out.withheld.append(name)
            continue
        if node.children:
            if action != "keep":
                raise ContractError(
                    "policy.nested_without_keep",
                    f"the policy transforms fields inside '{name}' but does not keep it",
                    field=name,
                )
            value = copy.deepcopy(value)  # the same record is shared with other purposes
        out.fields[name] = _transform(value, action, name, pseudonymiser, purpose, top=True)
        out.transformed.append((name, action))
        if node.children:
            _apply_nested(out.fields[name], node, name, out, pseudonymiser, purpose)
    return out
