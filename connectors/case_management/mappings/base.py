"""What a table mapping is, and the small parsing helpers every mapping uses.

A :class:`TableMapping` says which SSD table it reads (key and last-updated
columns), which event types it produces, which other rows it needs beside each
row (:class:`Lookup`: fetched for a whole batch in one query, never per row),
and a pure ``to_events(row, source)`` that returns the events for one row.

A row that breaks a rule raises :class:`schemas.errors.ContractError` naming the
rule and the *source column*, never the value. Parsing rules (code lists, dates,
Y/N) are checked here; the cross-field rules are the contract's own validators
(``schemas.validation``), run on every event by :func:`validated`, which
translates the event field they name back to the source column.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table

from connectors.case_management.enums import enum  # noqa: F401 - mappings import it from here
from connectors.common.events import event_id, utc
from schemas.errors import ContractError
from schemas.identifiers import is_valid_nhs_number, is_valid_upn
from schemas.validation import case_management as _cm_rules
from schemas.validation import consent as _consent_rules
from schemas.validation import voice as _voice_rules

Row = dict[str, Any]
Event = tuple[str, dict[str, Any]]  # (event type, record)

#: The contract's own rules per event type, beyond the envelope's (which ``subject`` and
#: ``make_envelope`` already guarantee: the event type, the identifiers' checks).
_RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    **_cm_rules.RULES,
    **_voice_rules.RULES,
    **_consent_rules.RULES,
}
_LA_CHILD_ID = re.compile(r"[A-Za-z0-9]{1,20}", re.ASCII)


@dataclass(frozen=True)
class Source:
    """Who publishes: the connector instance, the kind of system and the LA."""

    instance: str
    system: str
    la_code: str


@dataclass(frozen=True)
class Lookup:
    """Rows of another table a mapping needs beside each row, fetched once per batch.

    ``row[on]`` is matched against ``table.c[match]``; the result is put in
    ``row[name]``: one row (a dict, the first by ``order_by``) or, with ``many``,
    a list. A ``versioned`` lookup's rows count towards the event's version
    (their latest ``last_updated``), and a change to one of them re-publishes
    the row it belongs to.
    """

    name: str
    table: Table
    match: str
    on: str
    many: bool = False
    versioned: bool = False
    order_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableMapping:
    """One source table: what it produces and how."""

    table: Table
    key: str
    event_types: tuple[str, ...]
    to_events: Callable[..., list[Event]]
    #: the column (or ``lookup.column``) holding the person id; the subject comes from it
    person: str | None = None
    lookups: tuple[Lookup, ...] = ()
    #: rows grouped into one entity by this column (form answers into forms)
    group: str | None = None
    #: the column saying when the row last changed (the high-water mark, with the key)
    updated: str = "last_updated"
    description: str = ""

    @property
    def name(self) -> str:
        return self.table.name


# --------------------------------------------------------------------------- code lists


def code(value: Any, allowed: frozenset[str], column: str, rule: str) -> str | None:
    """A code from a closed list, upper-cased; None when blank."""
    if value is None:
        return None
    text = str(value).strip().upper()
    if not text:
        return None
    if text not in allowed:
        raise ContractError(rule, f"{column} is not in the {rule.split('.')[0]} code list", column)
    return text


def required(value: Any, column: str) -> Any:
    if value is None or value == "":
        raise ContractError("required.missing", f"{column} is required", column)
    return value


def text(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def yn(value: Any, column: str) -> bool | None:
    if value is None or value == "":
        return None
    if value is True or value is False:
        return value
    found = _YES_NO.get(value) if value.__class__ is str else None
    if found is None:
        found = _YES_NO.get(str(value).strip().upper())
        if found is None:
            raise ContractError("yes_no.value", f"{column} must be Y or N", column)
    return found


_YES_NO = {"Y": True, "YES": True, "TRUE": True, "1": True}
_YES_NO.update({"N": False, "NO": False, "FALSE": False, "0": False})


def date(value: Any, column: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ContractError("date.format", f"{column} is not a date", column) from None


def instant(value: Any, column: str) -> dt.datetime | None:
    """A timestamp as an aware UTC datetime (a date becomes midnight UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ContractError("date.format", f"{column} is not a date and time", column) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def json_value(value: Any, column: str) -> Any:
    """A JSON column's value (read-only: parses of the same text are shared)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    try:
        return _parse_json(value)
    except ValueError:
        raise ContractError("outcome_json.parse", f"{column} is not JSON", column) from None


@lru_cache(maxsize=8192)
def _parse_json(text: str) -> Any:
    """Outcome flags and factor lists repeat the same few texts across thousands of rows."""
    return json.loads(text)


#: flags already read: (text, column, id of the names, total) -> (the names, the flags)
_FLAGS: dict[tuple[str, str, int, bool], tuple[Mapping[str, str], dict[str, Any]]] = {}
_FLAGS_HELD = 8192


def flags(
    value: Any, column: str, names: Mapping[str, str], *, total: bool = False
) -> dict[str, Any] | None:
    """An SSD outcome JSON object as a record of nullable booleans (and, with ``total``,
    TOTAL_NO_OF_OUTCOMES as ``total_outcomes``). Free-text COMMENTS are never carried.

    The same few texts recur across thousands of rows, so each is read once and every
    row gets its own copy of the flags (a bad text raises each time: errors are not kept).
    """
    if value.__class__ is not str or not value:
        return _flags(value, column, names, total)
    key = (value, column, id(names), total)
    known = _FLAGS.get(key)
    if known is None or known[0] is not names:
        out = _flags(value, column, names, total)
        if out is None:
            return None
        if len(_FLAGS) >= _FLAGS_HELD:
            _FLAGS.clear()
        known = _FLAGS[key] = (names, out)
    return dict(known[1])


def _flags(value: Any, column: str, names: Mapping[str, str], total: bool) -> dict[str, Any] | None:
    doc = json_value(value, column)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise ContractError("outcome_json.shape", f"{column} is not an object", column)
    out: dict[str, Any] = {name: yn(doc.get(flag), column) for flag, name in names.items()}
    if total:
        count = doc.get("TOTAL_NO_OF_OUTCOMES")
        try:
            out["total_outcomes"] = None if count in (None, "") else int(count)
        except (TypeError, ValueError):
            raise ContractError(
                "outcome_json.count", f"{column} TOTAL_NO_OF_OUTCOMES is not a number", column
            ) from None
    return out


# --------------------------------------------------------------------------- subject, envelope


def subject(row: Row, person_column: str) -> dict[str, Any]:
    """The child's identifiers as the source holds them; bad ones reject the row."""
    person = row.get("_person_id", row.get(person_column))
    nhs, upn, la_child_id = _identifiers(row.get("nhs_number"), row.get("upn"), person)
    if la_child_id is None:
        raise ContractError("required.missing", "the row names no person", person_column)
    if not la_child_id:
        raise ContractError(
            "la_child_id.format", "the person id must be 1 to 20 letters and digits", person_column
        )
    return {
        "la_child_id": la_child_id,
        "nhs_number": nhs,
        "upn": upn,
        "family_id": row.get("family_id"),
    }


@lru_cache(maxsize=1 << 18, typed=True)
def _identifiers(nhs: Any, upn: Any, person: Any) -> tuple[str | None, str | None, str | None]:
    """A child's three identifiers checked once (they recur in every event about the child).

    The person id comes back None when missing and "" when malformed; a bad NHS number or
    UPN raises (exceptions are not cached, so a bad row is re-checked, which is rare).
    """
    nhs = (nhs or "").replace(" ", "") or None
    if nhs is not None and not is_valid_nhs_number(nhs):
        raise ContractError("nhs_number.check", "NHS number fails the mod-11 check", "nhs_number")
    upn = (upn or "").strip().upper() or None
    if upn is not None and not is_valid_upn(upn):
        raise ContractError("upn.check", "UPN fails its format or check letter", "upn")
    if person is None or person == "":
        return nhs, upn, None
    person = str(person)
    return nhs, upn, person if _LA_CHILD_ID.fullmatch(person) else ""


def version_of(row: Row) -> str:
    """The row's version: its own last_updated, or the latest of it and its versioned lookups."""
    when = row.get("_version") or row["last_updated"]
    return when.isoformat() if isinstance(when, dt.date) else str(when)


def make_envelope(
    event_type: str,
    row: Row,
    src: Source,
    *,
    entity: str,
    key: str,
    event_time: dt.date | dt.datetime,
    subject_record: dict[str, Any],
    correlation_id: str | None = None,
    variant: str = "",
    schema_version: int = 1,
) -> dict[str, Any]:
    """The envelope; ``variant`` tells apart two events made from one row version.

    The same record as :func:`connectors.common.events.envelope` builds, built here
    directly: this runs for every event of the largest source.
    """
    recorded = row.get("_version") or row["last_updated"]
    version = recorded.isoformat() if isinstance(recorded, dt.date) else str(recorded)
    if variant:
        version = f"{version}#{variant}"
    return {
        "event_id": event_id(src.instance, entity, key, version),
        "event_type": event_type,
        "schema_version": schema_version,
        "event_time": utc(event_time),
        "recorded_time": utc(recorded),
        "source_system": src.system,
        "source_instance": src.instance,
        "la_code": src.la_code,
        "subject": subject_record,
        "source_record": {"entity": entity, "key": key, "version": version},
        "correlation_id": correlation_id,
        "operation": "UPSERT",
        "sensitivity": "IDENTIFIABLE",
    }


def validated(event_type: str, record: dict[str, Any], columns: Mapping[str, str]) -> Event:
    """Run the contract's rules; the event field they name becomes the source column."""
    try:
        _RULES[event_type](record)
    except ContractError as err:
        path = err.field or ""
        last = path.rsplit(".", 1)[-1]
        head = path.split("[", 1)[0].split(".", 1)[0]
        column = columns.get(path) or columns.get(last) or columns.get(head) or path
        raise ContractError(err.rule, err.reason, column) from None
    return event_type, record
