"""Which form answers carry children's and families' voice, declared in YAML, not in code.

Case-management systems keep views, wishes and feelings in form answers held
entity-attribute-value style (Liquidlogic FACT_FORM_ANSWERS, Mosaic
MO_FORM_*_ANSWERS, Eclipse FORMANSWERPERSONVIEW), under question codes each LA
sets locally. The mapping file says, per form type, which question codes are
voice and what each becomes: whose voice (author role), the instrument, the item
and scale, the mode, and which questions hold the speaker's consent flags. The
format is in connectors/case_management/README.md; the shipped example is
``voice_mapping.yaml`` beside this module.

Loading checks everything and reports every problem at once, each naming the
form type and question code, as a :class:`connectors.common.settings.ConfigError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.case_management.enums import enum
from connectors.common.settings import ConfigError

DEFAULT_PATH = Path(__file__).with_name("voice_mapping.yaml")
STATEMENT = "voice.statement_recorded"
VOICE_NOTE = "voice.voice_note_recorded"
#: An author role resolved by age: YOUNG_PERSON from 16, CHILD below (AuthorRole's doc).
CHILD_OR_YOUNG_PERSON = "CHILD_OR_YOUNG_PERSON"
YOUNG_PERSON_AGE = 16

AUTHOR_ROLES = enum("chorus.voice.AuthorRole")
INSTRUMENTS = enum("chorus.voice.VoiceInstrument")
MODES = enum("chorus.voice.VoiceMode")
CONTEXTS = enum("chorus.voice.VoiceContext")
NOTE_ITEMS = enum("chorus.voice.VoiceNoteItemCode")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)

_FORM_KEYS = {
    "event", "context", "correlation", "language", "referral", "hub_meeting_date",
    "authors", "questions",
}  # fmt: skip
_AUTHOR_KEYS = {"instrument", "instrument_code", "mode", "mode_question", "consent", "themes"}
_QUESTION_KEYS = {"author", "text", "item", "scale", "yes_no"}
_CONSENT_KEYS = {"strategic_reporting", "verbatim_quotes"}


@dataclass(frozen=True)
class Question:
    code: str
    author: str
    kind: str  # "text", "score", "yes_no" or "note" (a Voice Note prompt)
    item: str | None = None
    scale: tuple[int, int] | None = None


@dataclass(frozen=True)
class Author:
    role: str
    instrument: str = "FREE_TEXT"
    instrument_code: str | None = None
    mode: str = "SPOKEN"
    mode_question: str | None = None
    #: strategic_reporting / verbatim_quotes -> the question holding it, or a fixed true/false
    consent: dict[str, str | bool] = field(default_factory=dict)
    themes: str | None = None


@dataclass(frozen=True)
class FormSpec:
    form_type: str
    event: str
    context: str
    authors: dict[str, Author]
    questions: dict[str, Question]
    correlation: str | None = None
    language: str | None = None
    referral: str | None = None
    hub_meeting_date: str | None = None


@dataclass(frozen=True)
class VoiceMapping:
    forms: dict[str, FormSpec]
    path: str

    def spec(self, form_type: str) -> FormSpec | None:
        return self.forms.get(form_type)


class _Problems(list):
    def add(self, where: str, problem: str) -> None:
        self.append(f"{where}: {problem}")


def _one_of(value: Any, allowed: frozenset[str], what: str) -> str | None:
    if value in allowed:
        return None
    return f"{what} {value!r} is not one of {', '.join(sorted(allowed))}"


def _unknown(doc: dict, known: set[str]) -> list[str]:
    return [f"unknown key '{k}'" for k in sorted(set(doc) - known)]


def _author(where: str, role: str, doc: Any, problems: _Problems) -> Author | None:
    if not isinstance(doc, dict):
        problems.add(where, "must be a mapping of instrument, mode, consent, ...")
        return None
    for p in _unknown(doc, _AUTHOR_KEYS):
        problems.add(where, p)
    roles = AUTHOR_ROLES | {CHILD_OR_YOUNG_PERSON}
    checks = [
        _one_of(role, roles, "author role"),
        _one_of(doc.get("instrument", "FREE_TEXT"), INSTRUMENTS, "instrument"),
        _one_of(doc.get("mode", "SPOKEN"), MODES, "mode"),
    ]
    code = doc.get("instrument_code")
    if code is not None and not (isinstance(code, str) and _CODE.fullmatch(code)):
        checks.append("instrument_code must be letters, digits, '_', '.', '-' (no spaces)")
    if doc.get("instrument") == "OTHER" and not code:
        checks.append("instrument OTHER needs an instrument_code")
    consent = doc.get("consent") or {}
    if not isinstance(consent, dict):
        checks.append("consent must map strategic_reporting / verbatim_quotes to question codes")
        consent = {}
    checks += [f"consent: {p}" for p in _unknown(consent, _CONSENT_KEYS)]
    checks += [
        f"consent {k} must be a question code or true/false"
        for k, v in consent.items()
        if not isinstance(v, str | bool)
    ]
    for p in filter(None, checks):
        problems.add(where, p)
    return Author(
        role=role,
        instrument=doc.get("instrument", "FREE_TEXT"),
        instrument_code=code,
        mode=doc.get("mode", "SPOKEN"),
        mode_question=doc.get("mode_question"),
        consent=dict(consent),
        themes=doc.get("themes"),
    )


def _question(
    where: str, code: str, doc: Any, event: str, authors: dict, problems: _Problems
) -> Question | None:
    if not isinstance(doc, dict):
        problems.add(where, "must be a mapping with author and text, item or scale")
        return None
    for p in _unknown(doc, _QUESTION_KEYS):
        problems.add(where, p)
    author = doc.get("author")
    if author not in authors:
        problems.add(where, f"author {author!r} is not declared under the form's authors")
    item, scale = doc.get("item"), doc.get("scale")
    if event == VOICE_NOTE:
        problem = _one_of(item, NOTE_ITEMS, "Voice Note item")
        if problem:
            problems.add(where, problem)
        return Question(code, author, "note", item)
    if doc.get("text"):
        if item is not None or scale is not None or doc.get("yes_no"):
            problems.add(where, "a text question has no item, scale or yes_no")
        return Question(code, author, "text")
    if not (isinstance(item, str) and _CODE.fullmatch(item)):
        problems.add(where, "needs text: true, or an item code (letters, digits, '_', '.', '-')")
        return None
    if doc.get("yes_no"):
        if scale is not None:
            problems.add(where, "a yes_no item has no scale")
        return Question(code, author, "yes_no", item)
    ok = (
        isinstance(scale, list)
        and len(scale) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in scale)
        and scale[0] < scale[1]
    )
    if not ok:
        problems.add(where, "a scored item needs scale: [min, max] with whole numbers, min < max")
        return None
    return Question(code, author, "score", item, (scale[0], scale[1]))


def _form(form_type: str, doc: Any, path: str, problems: _Problems) -> FormSpec | None:
    where = f"form '{form_type}'"
    if not isinstance(doc, dict):
        problems.add(where, "must be a mapping")
        return None
    for p in _unknown(doc, _FORM_KEYS):
        problems.add(where, p)
    event = doc.get("event", STATEMENT)
    if event not in (STATEMENT, VOICE_NOTE):
        problems.add(where, f"event {event!r} must be {STATEMENT} or {VOICE_NOTE}")
    context = doc.get("context", "OTHER")
    if event == STATEMENT and (problem := _one_of(context, CONTEXTS, "context")):
        problems.add(where, problem)
    raw_authors = doc.get("authors") or {}
    if not isinstance(raw_authors, dict) or not raw_authors:
        problems.add(where, "authors must name at least one author role")
        raw_authors = {}
    authors = {
        role: a
        for role, a_doc in raw_authors.items()
        if (a := _author(f"{where} author '{role}'", role, a_doc, problems)) is not None
    }
    if event == VOICE_NOTE:
        if len(authors) != 1:
            problems.add(where, "a Voice Note form has exactly one author")
        if not doc.get("referral"):
            problems.add(where, "a Voice Note form needs referral: the question holding its id")
    raw_questions = doc.get("questions") or {}
    if not isinstance(raw_questions, dict) or not raw_questions:
        problems.add(where, "questions must map at least one question code")
        raw_questions = {}
    questions = {}
    for code, q_doc in raw_questions.items():
        q = _question(f"{where} question '{code}'", str(code), q_doc, event, authors, problems)
        if q is not None:
            questions[str(code)] = q
    used: dict[str, str] = {}
    roles = [(name, doc.get(name)) for name in ("correlation", "language", "referral")]
    roles.append(("hub_meeting_date", doc.get("hub_meeting_date")))
    for a in authors.values():
        roles += [(f"{a.role} consent {k}", v) for k, v in a.consent.items() if isinstance(v, str)]
        roles += [(f"{a.role} mode_question", a.mode_question), (f"{a.role} themes", a.themes)]
    for role, code in roles:
        if code is None:
            continue
        if code in questions or code in used:
            other = "a voice question" if code in questions else used[code]
            problems.add(f"{where} question '{code}'", f"is used as {role} and as {other}")
        used[str(code)] = role
    return FormSpec(
        form_type=str(form_type),
        event=event,
        context=context,
        authors=authors,
        questions=questions,
        correlation=doc.get("correlation"),
        language=doc.get("language"),
        referral=doc.get("referral"),
        hub_meeting_date=doc.get("hub_meeting_date"),
    )


def parse(doc: Any, path: str) -> VoiceMapping:
    """A mapping from its YAML document, or ConfigError listing every problem."""
    problems = _Problems()
    if not isinstance(doc, dict):
        raise ConfigError(f"voice mapping {path}", ["must be a mapping with version and forms"])
    for p in _unknown(doc, {"version", "forms"}):
        problems.add("top level", p)
    if doc.get("version") != 1:
        problems.add("top level", "version must be 1")
    forms_doc = doc.get("forms") or {}
    if not isinstance(forms_doc, dict):
        problems.add("forms", "must map form types to their voice questions")
        forms_doc = {}
    forms = {}
    for form_type, form_doc in forms_doc.items():
        spec = _form(str(form_type), form_doc, path, problems)
        if spec is not None:
            forms[str(form_type)] = spec
    if problems:
        raise ConfigError(f"voice mapping {path}", problems)
    return VoiceMapping(forms, path)


def load(path: str | Path | None = None) -> VoiceMapping:
    """Read and check a voice mapping file (the shipped one when ``path`` is empty)."""
    file = Path(path) if path else DEFAULT_PATH
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"voice mapping {file}", ["file not found"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"voice mapping {file}", [f"not valid YAML ({exc.__class__.__name__})"]
        ) from None
    return parse(doc, str(file))
