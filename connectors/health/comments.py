"""Parent comments (voice) and CP-IS access notifications, from Communications and review forms.

A parent's comment (DCH CH022 Parent, Guardian or Personal Comment) is a
Communication with category ``parent-comment``, the words in
``payload.contentString``, the author in ``sender`` (a RelatedPerson is the parent
or carer; the child's own Patient is the child), how it was made in ``medium``
(HL7 v3 participation mode; written when absent) and what the author agreed to
in the ``consent-for-reports`` extension (when absent: nothing, so the comment is
neither counted nor quoted). A review QuestionnaireResponse may carry one too,
as its ``parent-comment`` item, written by its ``source`` (the parent when absent,
as ASQ-3 is parent-completed).

A CP-IS Access to Service Notification is a Communication with category
``cpis-access-notification``: the plan type in ``reasonCode``, and in the
attendance Encounter it points at (``Communication.encounter``) the care setting
(``type``), the time (``period.start``) and the ODS code (``serviceProvider``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.health import codes
from connectors.health.fhir import Entry, Index, code_in, codings, instant, ref_id, ref_type
from connectors.health.mapping import (
    COMMENT,
    CPIS,
    Context,
    Fault,
    event,
    fault,
    partition_key,
    patient_of,
    subject,
)

Result = tuple[dict[str, Any], bytes | None] | None
_PARENT_AUTHORS = frozenset({"RelatedPerson"})


def communication_kind(e: Entry) -> str | None:
    """The event type of a Communication: None when not ours, "" when ours but unknown."""
    category = code_in(e.resource.category, codes.CATEGORY_SYSTEM)
    if category is None:
        return None
    return {codes.PARENT_COMMENT: COMMENT, codes.CPIS_NOTIFICATION: CPIS}.get(category, "")


def communication_event(e: Entry, index: Index, ctx: Context) -> Result:
    if e.resource.status != "completed":
        return None  # in preparation, stopped or entered in error: nothing was said yet
    kind = communication_kind(e)
    if kind == COMMENT:
        return _comment(e, index, ctx)
    if kind == CPIS:
        return _notification(e, index, ctx)
    raise fault(
        "communication.category",
        "Communication.category is not in the communication-category code system",
        "Communication.category",
        e,
    )


def _author_role(reference: str | None, patient: Entry, index: Index, e: Entry, path: str) -> str:
    kind = ref_type(reference, index)
    if kind in _PARENT_AUTHORS:
        return "PARENT_CARER"
    if kind == "Patient":
        return "CHILD" if index.get(reference) is patient else "PARENT_CARER"
    raise fault(
        "comment.author_role",
        f"{path} must be a RelatedPerson (parent or carer) or the child's Patient",
        path,
        e,
    )


def _mode(medium: Any, e: Entry) -> str:
    spoken = written = False
    for system, code in codings(medium):
        if system != codes.PARTICIPATION_MODE_SYSTEM:
            continue
        if code in codes.SPOKEN_MODES:
            spoken = True
        elif code in codes.WRITTEN_MODES:
            written = True
        else:
            raise fault(
                "comment.mode", "Communication.medium is not a participation mode", "medium", e
            )
    return "SPOKEN" if spoken and not written else "WRITTEN"


def _consent(extensions: Any, default_time: dt.datetime) -> dict[str, Any]:
    consent = {"strategic_reporting": False, "verbatim_quotes": False, "recorded_at": default_time}
    for ext in extensions or []:
        if ext.url != codes.CONSENT_EXTENSION:
            continue
        for part in ext.extension or []:
            if part.url == "strategicReporting":
                consent["strategic_reporting"] = bool(part.valueBoolean)
            elif part.url == "verbatimQuotes":
                consent["verbatim_quotes"] = bool(part.valueBoolean)
            elif part.url == "recordedAt" and instant(part.valueDateTime):
                consent["recorded_at"] = instant(part.valueDateTime)
    return consent


def _comment(e: Entry, index: Index, ctx: Context) -> Result:
    com = e.resource
    patient = patient_of(e, com.subject.reference if com.subject else None, index)
    subject_ = subject(patient)
    if com.sender is None or not com.sender.reference:
        raise fault(
            "comment.author_missing", "a parent comment needs its sender", "Communication.sender", e
        )
    role = _author_role(com.sender.reference, patient, index, e, "Communication.sender")
    text = "\n\n".join(p.contentString for p in com.payload or [] if p.contentString)
    if not text.strip():
        raise fault(
            "comment.text_missing",
            "a parent comment needs payload.contentString",
            "Communication.payload",
            e,
        )
    sent = instant(com.sent) or instant(com.received)
    if sent is None:
        raise fault(
            "comment.sent_missing", "a parent comment needs its time", "Communication.sent", e
        )
    encounter = ref_id(com.encounter.reference) if com.encounter else None
    comment_id = com.id or e.key
    body = {
        "comment_id": comment_id,
        "about_encounter_id": encounter,
        "author_role": role,
        "mode": _mode(com.medium, e),
        "text": text,
        "language": com.language,
        "consent_for_reports": _consent(com.extension, sent),
    }
    record = event(
        COMMENT,
        ctx,
        anchor=e,
        key=comment_id,
        behind=[e, patient],
        event_time=sent,
        subject_=subject_,
        correlation_id=encounter,
        body=body,
    )
    return record, partition_key(subject_)


def _qr_item(items: Any, link_id: str) -> Any:
    for item in items or []:
        if item.linkId == link_id:
            return item
        found = _qr_item(item.item, link_id)
        if found is not None:
            return found
    return None


def _qr_answer(item: Any, attr: str) -> Any:
    if item is None:
        return None
    return next((getattr(a, attr) for a in item.answer or [] if getattr(a, attr) is not None), None)


def questionnaire_comment(e: Entry, index: Index, ctx: Context) -> Result:
    qr = e.resource
    text = _qr_answer(_qr_item(qr.item, codes.PARENT_COMMENT), "valueString")
    if not text or qr.status not in ("completed", "amended"):
        return None
    patient = patient_of(e, qr.subject.reference if qr.subject else None, index)
    subject_ = subject(patient)
    source = qr.source.reference if qr.source else None
    role = (
        _author_role(source, patient, index, e, "QuestionnaireResponse.source")
        if source
        else "PARENT_CARER"
    )
    authored = instant(qr.authored)
    if authored is None:
        raise fault(
            "comment.sent_missing",
            "the review form needs its authored time",
            "QuestionnaireResponse.authored",
            e,
        )
    consent = {
        "strategic_reporting": bool(
            _qr_answer(_qr_item(qr.item, codes.CONSENT_REPORTING), "valueBoolean")
        ),
        "verbatim_quotes": bool(
            _qr_answer(_qr_item(qr.item, codes.CONSENT_QUOTES), "valueBoolean")
        ),
        "recorded_at": authored,
    }
    encounter = ref_id(qr.encounter.reference) if qr.encounter else None
    comment_id = f"{qr.id or ref_id(e.key)}#{codes.PARENT_COMMENT}"
    body = {
        "comment_id": comment_id,
        "about_encounter_id": encounter,
        "author_role": role,
        "mode": "WRITTEN",
        "text": text,
        "language": qr.language,
        "consent_for_reports": consent,
    }
    record = event(
        COMMENT,
        ctx,
        anchor=e,
        key=comment_id,
        behind=[e, patient],
        event_time=authored,
        subject_=subject_,
        correlation_id=encounter,
        body=body,
    )
    return record, partition_key(subject_)


def _attendance(e: Entry, index: Index) -> Entry:
    ref = e.resource.encounter.reference if e.resource.encounter else None
    found = index.get(ref)
    if found is None or found.resource_type != "Encounter":
        raise fault(
            "reference.unresolved",
            "the notification's attendance Encounter is not in the same file or search result",
            "Communication.encounter",
            e,
        )
    if found.error is not None:
        raise Fault(found.error, found)
    return found


def _notification(e: Entry, index: Index, ctx: Context) -> Result:
    com = e.resource
    patient = patient_of(e, com.subject.reference if com.subject else None, index)
    subject_ = subject(patient)
    plan = code_in(com.reasonCode, codes.PLAN_TYPE_SYSTEM)
    if plan not in codes.PLAN_TYPES:
        raise fault(
            "cpis.plan_type",
            "Communication.reasonCode has no cpis-plan-type code, or an unknown one",
            "Communication.reasonCode",
            e,
        )
    enc = _attendance(e, index)
    setting = code_in(enc.resource.type, codes.CARE_SETTING_SYSTEM)
    if setting not in codes.CARE_SETTINGS:
        raise fault(
            "cpis.care_setting",
            "the attendance Encounter.type has no care-setting code, or an unknown one",
            "Encounter.type",
            enc,
        )
    period = enc.resource.period
    attended = instant(period.start) if period is not None else None
    if attended is None:
        raise fault(
            "cpis.attendance_time",
            "the attendance Encounter needs period.start with a time",
            "Encounter.period.start",
            enc,
        )
    provider = enc.resource.serviceProvider
    ident = provider.identifier if provider is not None else None
    ods_systems = (codes.ODS_ORGANISATION_SYSTEM, codes.ODS_SITE_SYSTEM)
    if ident is None or ident.system not in ods_systems or not ident.value:
        raise fault(
            "cpis.ods_code",
            "the attendance Encounter needs serviceProvider.identifier with an ODS code",
            "Encounter.serviceProvider",
            enc,
        )
    notification_id = next((i.value for i in com.identifier or [] if i.value), None) or com.id
    body = {
        "notification_id": notification_id or e.key,
        "attendance_time": attended,
        "care_setting_type": setting,
        "ods_site_code": ident.value,
        "plan_type": plan,
    }
    record = event(
        CPIS,
        ctx,
        anchor=e,
        key=com.id or e.key,
        behind=[e, patient, enc],
        event_time=attended,
        subject_=subject_,
        correlation_id=None,
        body=body,
    )
    return record, partition_key(subject_)
