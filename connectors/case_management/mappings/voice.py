"""Voice from form answers: ssd_form_answers, grouped by form, -> voice.statement_recorded
(one per form and author) or voice.voice_note_recorded, as the voice mapping file
(:mod:`connectors.case_management.voice_mapping`) declares.

The connector reads answers after its mark like any table, then fetches every
answer of each form it touched, so a form is always published whole. Its version
is its latest answer's last_updated, so re-reading an unchanged form gives the same
event ids. Answers to questions the mapping does not list are never published.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Row,
    Source,
    TableMapping,
    code,
    date,
    instant,
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)
from connectors.case_management.voice_mapping import (
    CHILD_OR_YOUNG_PERSON,
    MODES,
    STATEMENT,
    VOICE_NOTE,
    YOUNG_PERSON_AGE,
    Author,
    FormSpec,
    VoiceMapping,
)
from schemas.errors import ContractError

COLUMNS = {"text": "foan_answer", "language": "foan_answer", "themes": "foan_answer"}


def _where(question: str) -> str:
    return f"foan_answer[{question}]"


class _Form:
    """A form's answers by question code (the latest answer wins)."""

    def __init__(self, group: Row) -> None:
        self.group = group
        self.answers: dict[str, Row] = {}
        for a in group["answers"]:
            self.answers[str(a["foan_question_code"])] = a

    def text(self, question: str | None) -> str | None:
        if question is None or question not in self.answers:
            return None
        return text(self.answers[question].get("foan_answer"))

    def at(self, questions: list[str]) -> dt.datetime:
        """When the answers to ``questions`` were given (the earliest), else the form's time."""
        times = [
            t
            for q in questions
            if q in self.answers
            and (t := instant(self.answers[q].get("foan_answered_at"), "foan_answered_at"))
        ]
        return min(times) if times else instant(self.group["last_updated"], "last_updated")

    def consent(self, author: Author, expressed: dt.datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"recorded_at": expressed}
        asked: list[str] = []
        for flag in ("strategic_reporting", "verbatim_quotes"):
            source = author.consent.get(flag, False)
            if isinstance(source, bool):
                out[flag] = source
            else:
                out[flag] = bool(yn(self.text(source), _where(source)))
                asked.append(source)
        if any(q in self.answers for q in asked):
            out["recorded_at"] = self.at(asked)
        return out


def _role(author: Author, form: _Form, when: dt.datetime) -> str:
    if author.role != CHILD_OR_YOUNG_PERSON:
        return author.role
    dob = date(form.group.get("_dob"), "pers_dob")
    if dob is None:
        return "CHILD"
    day = when.date()
    age = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
    return "YOUNG_PERSON" if age >= YOUNG_PERSON_AGE else "CHILD"


def _item(form: _Form, q: Any) -> dict[str, Any]:
    answer = form.text(q.code)
    if q.kind == "yes_no":
        return {
            "item_code": q.item,
            "score": None,
            "scale_min": None,
            "scale_max": None,
            "answer_yn": yn(answer, _where(q.code)),
        }
    try:
        score = int(answer)
    except (TypeError, ValueError):
        raise ContractError(
            "voice.score_format", f"the answer to {q.code} is not a whole number", _where(q.code)
        ) from None
    low, high = q.scale
    if not low <= score <= high:
        raise ContractError(
            "voice.score_scale", f"the answer to {q.code} is outside its scale", _where(q.code)
        )
    return {
        "item_code": q.item,
        "score": score,
        "scale_min": low,
        "scale_max": high,
        "answer_yn": None,
    }


def _statement(form: _Form, spec: FormSpec, author: Author, src: Source) -> Event | None:
    questions = [
        q for q in spec.questions.values() if q.author == author.role and form.text(q.code)
    ]
    if not questions:
        return None  # this speaker said nothing on this form
    expressed = form.at([q.code for q in questions])
    role = _role(author, form, expressed)
    texts = [form.text(q.code) for q in questions if q.kind == "text"]
    mode = author.mode
    if author.mode_question and form.text(author.mode_question):
        mode = code(
            form.text(author.mode_question),
            MODES,
            _where(author.mode_question),
            "voice_mode.code_list",
        )
    themes = (form.text(author.themes) or "").replace(";", ",").split(",")
    form_id = str(form.group["foan_form_id"])
    correlation = form.text(spec.correlation)
    record = {
        "envelope": make_envelope(
            STATEMENT,
            form.group,
            src,
            entity=ssd.form_answers.name,
            key=form_id,
            event_time=expressed,
            subject_record=subject(form.group, "foan_person_id"),
            correlation_id=correlation,
            variant=role,
        ),
        "statement_id": f"{form_id}-{role}",
        "author_role": role,
        "context": spec.context,
        "instrument": author.instrument,
        "instrument_code": author.instrument_code,
        "mode": mode,
        "expressed_at": expressed,
        "items": [_item(form, q) for q in questions if q.kind != "text"],
        "text": "\n\n".join(texts) if texts else None,
        "language": form.text(spec.language),
        "themes": [t.strip().lower() for t in themes if t.strip()],
        "consent_for_reports": form.consent(author, expressed),
        "about_correlation_id": correlation,
    }
    return validated(STATEMENT, record, COLUMNS)


def _voice_note(form: _Form, spec: FormSpec, src: Source) -> Event | None:
    author = next(iter(spec.authors.values()))
    questions = [q for q in spec.questions.values() if q.code in form.answers]
    if not questions:
        return None
    recorded = form.at([q.code for q in questions])
    referral = required(form.text(spec.referral), _where(spec.referral or "referral"))
    form_id = str(form.group["foan_form_id"])
    record = {
        "envelope": make_envelope(
            VOICE_NOTE,
            form.group,
            src,
            entity=ssd.form_answers.name,
            key=form_id,
            event_time=recorded,
            subject_record=subject(form.group, "foan_person_id"),
            correlation_id=referral,
            variant=author.role,
        ),
        "voice_note_id": form_id,
        "referral_id": referral,
        "recorded_at": recorded,
        "hub_meeting_date": date(
            form.text(spec.hub_meeting_date), _where(spec.hub_meeting_date or "")
        ),
        "author_role": author.role,
        "mode": author.mode,
        "items": [{"item_code": q.item, "text": form.text(q.code)} for q in questions],
        "language": form.text(spec.language),
        "consent_for_reports": form.consent(author, recorded),
    }
    return validated(VOICE_NOTE, record, {**COLUMNS, "items": "foan_answer"})


def form_events(group: Row, src: Source, voice: VoiceMapping) -> list[Event]:
    """The events of one form: ``group["answers"]`` holds all of its answer rows."""
    spec = voice.spec(str(group["foan_form_type"]))
    if spec is None:
        return []  # not a voice form
    form = _Form(group)
    if spec.event == VOICE_NOTE:
        events = [_voice_note(form, spec, src)]
    else:
        events = [_statement(form, spec, author, src) for author in spec.authors.values()]
    return [e for e in events if e is not None]


def form_answers(voice: VoiceMapping) -> TableMapping:
    """The mapping of ssd_form_answers under a loaded voice mapping file."""
    return TableMapping(
        ssd.form_answers,
        key="foan_answer_id",
        event_types=(STATEMENT, VOICE_NOTE),
        to_events=partial(form_events, voice=voice),
        person="foan_person_id",
        group="foan_form_id",
        description=f"children's and families' voice in form answers ({voice.path})",
    )
