"""Contract rules Avro cannot express for the voice domain (``voice.*`` events).

Also home of the checks the consent, health and education validators share:
restricted free text, code-shaped strings, and ``dispatch``, which runs the
envelope checks of ``schemas.validation.case_management.check_envelope`` (event
type, NHS number, UPN, LA child id) before an event type's own rules.

Every rule raises :class:`schemas.errors.ContractError` with a stable rule id
and the field's path; messages never quote the value, which is personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from schemas.errors import ContractError
from schemas.validation.case_management import check_envelope

__all__ = [
    "MAX_TEXT_CHARS",
    "check_code",
    "check_envelope",
    "check_language",
    "check_restricted_text",
    "dispatch",
    "validate",
]

#: The longest restricted free text accepted, in characters (code points).
MAX_TEXT_CHARS = 20_000

# C0 control characters other than tab, line feed and carriage return: never
# meaningful in a statement, and NUL cannot be stored in a PostgreSQL text column.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A BCP 47 tag in the shape Chorus accepts: a 2-3 letter language, then subtags.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", re.ASCII)
# Codes (instrument and item codes): letters, digits, underscores, dots and hyphens, no
# spaces, so no free text hides in them.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
_CODE_SHAPE = "a code of letters, digits, underscores, dots and hyphens (at most 64)"
# Theme codes: lower-case snake_case.
_SNAKE_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}", re.ASCII)

# Authors whose own view a Voice Note can be: it is the family's voice, not a case note.
_VOICE_NOTE_AUTHORS = frozenset({"PARENT_CARER", "CHILD", "YOUNG_PERSON", "ADVOCATE"})


# --------------------------------------------------------------------------- shared checks


def check_restricted_text(value: Any, field: str, *, required: bool = False) -> None:
    """Restricted free text: a string of valid UTF-8, at most 20,000 characters."""
    if value is None:
        if required:
            raise ContractError("text.required", f"{field} is required", field)
        return
    if not isinstance(value, str):
        raise ContractError("text.type", f"{field} must be text", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(
            "text.utf8", f"{field} is not valid UTF-8 (it holds a lone surrogate)", field
        ) from None
    if len(value) > MAX_TEXT_CHARS:
        raise ContractError(
            "text.length", f"{field} is longer than {MAX_TEXT_CHARS:,} characters", field
        )
    if _CONTROL.search(value):
        raise ContractError(
            "text.control_character",
            f"{field} holds a control character other than tab or a line break",
            field,
        )
    if required and not value.strip():
        raise ContractError("text.required", f"{field} is empty", field)


def check_code(value: Any, field: str, rule: str, pattern: re.Pattern[str], shape: str) -> None:
    """A code-shaped string (or None): no free text hides in code fields."""
    if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
        raise ContractError(rule, f"{field} must be {shape}", field)


def check_language(value: Any, field: str = "language") -> None:
    check_code(value, field, "language.tag", _LANGUAGE, "a BCP 47 language tag (for example en)")


def dispatch(
    domain: str,
    rules: dict[str, Callable[[dict[str, Any]], None]],
    event_type: str,
    record: dict[str, Any],
) -> None:
    """Run the envelope checks and the event type's own rules."""
    check = rules.get(event_type)
    if check is None:
        raise ContractError(
            "validation.unknown_event_type",
            f"the {domain} validator has no rules for this event type",
            "envelope.event_type",
        )
    check_envelope(event_type, record)
    check(record)


# --------------------------------------------------------------------------- voice rules


def _statement_recorded(record: dict[str, Any]) -> None:
    if record["instrument"] == "OTHER" and not record["instrument_code"]:
        raise ContractError(
            "voice.instrument_code_required",
            "instrument_code is required when instrument is OTHER",
            "instrument_code",
        )
    check_code(
        record["instrument_code"],
        "instrument_code",
        "voice.instrument_code",
        _CODE,
        _CODE_SHAPE,
    )
    for i, item in enumerate(record["items"]):
        where = f"items[{i}]"
        check_code(
            item["item_code"],
            f"{where}.item_code",
            "voice.item_code",
            _CODE,
            _CODE_SHAPE,
        )
        lo, hi, score = item["scale_min"], item["scale_max"], item["score"]
        if (lo is None) != (hi is None):
            raise ContractError(
                "voice.scale",
                "scale_min and scale_max must be given together",
                f"{where}.scale_max",
            )
        if lo is not None and lo >= hi:
            raise ContractError(
                "voice.scale", "scale_max must be above scale_min", f"{where}.scale_max"
            )
        if score is not None:
            if lo is None:
                raise ContractError(
                    "voice.score_scale",
                    "a score needs its scale (scale_min and scale_max)",
                    f"{where}.score",
                )
            if not lo <= score <= hi:
                raise ContractError(
                    "voice.score_scale",
                    "score is outside the item's scale_min..scale_max",
                    f"{where}.score",
                )
    check_restricted_text(record["text"], "text")
    check_language(record["language"])
    for i, theme in enumerate(record["themes"]):
        check_code(
            theme, f"themes[{i}]", "voice.theme_code", _SNAKE_CODE, "a lower-case snake_case code"
        )


def _voice_note_recorded(record: dict[str, Any]) -> None:
    if record["author_role"] not in _VOICE_NOTE_AUTHORS:
        raise ContractError(
            "voice.voice_note_author",
            "a Voice Note is the family's own view: author_role must be PARENT_CARER, "
            "CHILD, YOUNG_PERSON or ADVOCATE",
            "author_role",
        )
    seen: set[str] = set()
    for i, item in enumerate(record["items"]):
        code = item["item_code"]
        if code != "OTHER" and code in seen:
            raise ContractError(
                "voice.voice_note_item_repeated",
                "each Voice Note prompt other than OTHER may be answered once",
                f"items[{i}].item_code",
            )
        seen.add(code)
        check_restricted_text(item["text"], f"items[{i}].text")
    check_language(record["language"])


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "voice.statement_recorded": _statement_recorded,
    "voice.voice_note_recorded": _voice_note_recorded,
}


def validate(event_type: str, record: dict[str, Any]) -> None:
    """Raise ContractError when a decoded ``voice.*`` record breaks a rule Avro cannot express."""
    dispatch("voice", RULES, event_type, record)
