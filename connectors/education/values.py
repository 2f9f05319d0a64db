"""Reading one value from a source record, or a ContractError naming the column (never the value).

A source record is a flat dict keyed by column names; values are text as the
file holds them (the XML readers give lists for repeated elements).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from connectors.education import codes
from schemas.errors import ContractError
from schemas.identifiers import upn_error

Record = dict[str, Any]

_ACADEMIC_YEAR = re.compile(r"([0-9]{4})/([0-9]{2})", re.ASCII)
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", re.ASCII)


def text(record: Record, name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def required(record: Record, name: str) -> str:
    value = text(record, name)
    if value is None:
        raise ContractError("required.missing", f"{name} is required", name)
    return value


def date(record: Record, name: str) -> dt.date | None:
    value = text(record, name)
    if value is None:
        return None
    try:
        uk = _UK_DATE.fullmatch(value)
        if uk:
            return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ContractError(
            "date.format", f"{name} is not a real date (YYYY-MM-DD or DD/MM/YYYY)", name
        ) from None


def day(record: Record, name: str) -> dt.date:
    """A required date."""
    required(record, name)
    return date(record, name)  # type: ignore[return-value]


def optional_count(record: Record, name: str) -> int | None:
    value = text(record, name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 6:
        raise ContractError("number.format", f"{name} must be a whole number of 0 or more", name)
    return int(value)


def count(record: Record, name: str) -> int:
    required(record, name)
    return optional_count(record, name)  # type: ignore[return-value]


def yes_no(record: Record, name: str) -> bool | None:
    value = text(record, name)
    if value is None:
        return None
    if value.upper() in codes.YES:
        return True
    if value.upper() in codes.NO:
        return False
    raise ContractError("yes_no.value", f"{name} must be Y or N", name)


def code(record: Record, name: str, allowed: dict[str, str] | frozenset[str], rule: str) -> str:
    value = required(record, name).upper()
    if value not in allowed:
        raise ContractError(rule, f"{name} is not in the {rule.split('.')[0]} code list", name)
    return allowed[value] if isinstance(allowed, dict) else value


def upn(record: Record, name: str = "UPN") -> str:
    value = required(record, name).upper()
    why = upn_error(value)
    if why:
        raise ContractError("upn.check", why, name)
    return value


def academic_year(record: Record, name: str = "AcademicYear") -> tuple[str, int]:
    """The academic year as YYYY/YY, and its first calendar year; accepts YYYY/YY or YYYY-YY."""
    value = required(record, name).replace("-", "/")
    match = _ACADEMIC_YEAR.fullmatch(value)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ContractError(
            "academic_year.format", f"{name} must be YYYY/YY with consecutive years", name
        )
    return value, int(match[1])


def shaped(record: Record, name: str, pattern: re.Pattern[str], rule: str, shape: str) -> str:
    value = required(record, name).upper()
    if not pattern.fullmatch(value):
        raise ContractError(rule, f"{name} must be {shape}", name)
    return value


def optional_shaped(
    record: Record, name: str, pattern: re.Pattern[str], rule: str, shape: str
) -> str | None:
    return None if text(record, name) is None else shaped(record, name, pattern, rule, shape)


def listed(record: Record, name: str) -> list[Any]:
    """A list field: the XML readers give lists; a CSV cell gives ';'-separated items."""
    value = record.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [item.strip() for item in str(value).split(";") if item.strip()]
