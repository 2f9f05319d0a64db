"""From the FHIR resources of one file (or one search result) to events (pure functions).

Events are assembled from several resources, found by reference in the same
file or result:

- ``health.development_review_completed``: one per 2-2½ year review, grouped by
  the review Encounter; the ASQ-3 results come from Observations or a
  QuestionnaireResponse that point at it (``review.py``);
- ``health.parent_comment_recorded``: one per parent-comment Communication, and
  one per "parent-comment" item of a review QuestionnaireResponse (``comments.py``);
- ``health.unscheduled_care_attendance_notified``: one per CP-IS access
  notification Communication (``comments.py``).

Each becomes an :class:`Outcome` ordered by the entry it is anchored on. When
something breaks a rule the outcome is a rejection naming the rule and the
entry at fault (the Patient whose NHS number fails mod 11, the Observation with
an unknown code); an invalid entry nobody refers to is rejected by itself, so
nothing is dropped silently. Resources of other types, and Observations and
Communications coded outside the systems in ``codes.py``, are not ours: skipped.

An event's source record is the FHIR resource (type, id) with a hash of the
content behind it as the version, so the same data gives the same event id
from a folder or from a server, and a changed resource a new version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from connectors.common.events import envelope, utc
from connectors.health import codes
from connectors.health.fhir import Entry, Index, code_in, codings, content_version, last_updated
from schemas import validation
from schemas.errors import ContractError
from schemas.identifiers import nhs_number_error

REVIEW = "health.development_review_completed"
COMMENT = "health.parent_comment_recorded"
CPIS = "health.unscheduled_care_attendance_notified"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Context:
    source_instance: str
    source_system: str
    la_code: str


class Fault(Exception):
    """A rule broken by one entry; the event that needed it is rejected."""

    def __init__(self, error: ContractError, entry: Entry) -> None:
        super().__init__(error.reason)
        self.error = error
        self.entry = entry


def fault(rule: str, reason: str, field_: str, entry: Entry) -> Fault:
    return Fault(ContractError(rule, reason, field_), entry)


@dataclass(frozen=True)
class Outcome:
    """An event to publish, or a rejection with the entry at fault."""

    order: tuple[int, int]  # (anchor entry index, sequence within it)
    event_type: str | None
    record: dict[str, Any] | None = None
    key: bytes | None = None
    error: ContractError | None = None
    entry: Entry | None = None


@dataclass
class ReviewGroup:
    """The resources of one review: its Encounter and the results that point at it."""

    key: str
    encounter: Entry | None = None
    results: list[Entry] = field(default_factory=list)  # Observations and QuestionnaireResponses
    broken: list[Entry] = field(default_factory=list)

    @property
    def members(self) -> list[Entry]:
        return ([self.encounter] if self.encounter else []) + self.results + self.broken

    @property
    def anchor(self) -> int:
        return min(e.index for e in self.members)

    @property
    def has_match(self) -> bool:
        return any(e.match for e in self.members)


# --------------------------------------------------------------------------- shared pieces


def subject(patient: Entry) -> dict[str, Any]:
    """The envelope subject from a Patient: its NHS number (mod-11 checked) and its id."""
    nhs_ids = [i for i in patient.resource.identifier or [] if i.system == codes.NHS_NUMBER_SYSTEM]
    values = {(i.value or "").replace(" ", "") for i in nhs_ids}
    if len(values) > 1:
        raise fault(
            "nhs_number.multiple",
            "the Patient has more than one NHS number",
            "Patient.identifier",
            patient,
        )
    nhs = values.pop() if values else None
    verified = None
    if nhs is not None:
        why = nhs_number_error(nhs)
        if why:
            raise fault("nhs_number.check", why, "Patient.identifier", patient)
        for ext in nhs_ids[0].extension or []:
            if ext.url == codes.NHS_VERIFICATION_EXTENSION:
                verified = any(
                    c == codes.NHS_VERIFIED_CODE for _, c in codings(ext.valueCodeableConcept)
                )
    return {
        "la_child_id": None,
        "mis_child_id": patient.resource.id,
        "nhs_number": nhs,
        "nhs_number_verified": verified,
        "upn": None,
        "family_id": None,
    }


def patient_of(entry: Entry, reference: str | None, index: Index) -> Entry:
    """The Patient a resource's subject points at, in the same file or result."""
    found = index.get(reference)
    if found is None or found.resource_type != "Patient":
        raise fault(
            "reference.unresolved",
            "the subject is not a Patient in the same file or search result",
            f"{entry.resource_type}.subject",
            entry,
        )
    if found.error is not None:
        raise Fault(found.error, found)
    return found


def event(
    event_type: str,
    ctx: Context,
    *,
    anchor: Entry,
    key: str,
    behind: list[Entry],
    event_time: dt.datetime | dt.date,
    subject_: dict[str, Any],
    correlation_id: str | None,
    body: dict[str, Any],
) -> dict[str, Any]:
    stamps = [t for t in (last_updated(e) for e in behind) if t is not None]
    recorded = max(stamps) if stamps else utc(event_time)
    record = {
        "envelope": envelope(
            event_type=event_type,
            schema_version=SCHEMA_VERSION,
            source_system=ctx.source_system,
            source_instance=ctx.source_instance,
            la_code=ctx.la_code,
            entity=anchor.resource_type or "Resource",
            key=key,
            version=content_version(behind),
            event_time=event_time,
            recorded_time=recorded,
            subject=subject_,
            correlation_id=correlation_id,
        ),
        **body,
    }
    try:
        validation.validate(event_type, record)
    except ContractError as err:
        raise Fault(err, anchor) from None
    return record


def partition_key(subject_: dict[str, Any]) -> bytes | None:
    value = subject_.get("nhs_number") or subject_.get("mis_child_id")
    return value.encode() if value else None


# --------------------------------------------------------------------------- grouping


def is_review_result(entry: Entry) -> bool:
    if entry.resource_type == "Observation":
        return any(
            (s, c) in codes.ASQ3_DOMAIN_CODES or s == codes.REVIEW_SYSTEM
            for s, c in codings(entry.resource.code)
        )
    if entry.resource_type == "QuestionnaireResponse":
        return (entry.resource.questionnaire or "").split("|")[0] == codes.REVIEW_QUESTIONNAIRE
    return False


def is_review_encounter(entry: Entry) -> bool:
    return code_in(entry.resource.type, codes.ENCOUNTER_TYPE_SYSTEM) == codes.REVIEW_ENCOUNTER


def _raw_encounter_ref(entry: Entry) -> str | None:
    enc = entry.raw.get("encounter") if isinstance(entry.raw, dict) else None
    ref = enc.get("reference") if isinstance(enc, dict) else None
    return ref if isinstance(ref, str) else None


def group_reviews(index: Index) -> tuple[dict[str, ReviewGroup], list[Entry]]:
    """Review groups by Encounter key, and review results that point at no encounter."""
    groups: dict[str, ReviewGroup] = {}
    orphans: list[Entry] = []
    for e in index.entries:
        if e.resource_type == "Encounter" and e.error is None and is_review_encounter(e):
            groups.setdefault(e.key, ReviewGroup(e.key)).encounter = e
        elif e.error is None and e.resource is not None and is_review_result(e):
            ref = e.resource.encounter.reference if e.resource.encounter else None
            if ref:
                key = index.canonical(ref)
                groups.setdefault(key, ReviewGroup(key)).results.append(e)
            elif e.resource_type == "QuestionnaireResponse":
                groups.setdefault(e.key, ReviewGroup(e.key)).results.append(e)
            else:
                orphans.append(e)
        elif e.error is not None and e.resource_type in ("Observation", "QuestionnaireResponse"):
            ref = _raw_encounter_ref(e)
            if ref:
                key = index.canonical(ref)
                groups.setdefault(key, ReviewGroup(key)).broken.append(e)
    for e in index.entries:  # an invalid review Encounter still owns its group
        if e.resource_type == "Encounter" and e.error is not None and e.key in groups:
            groups[e.key].broken.append(e)
    return groups, orphans


def map_entries(index: Index, ctx: Context) -> list[Outcome]:
    """Every event and rejection the entries give, in anchor order."""
    from connectors.health import comments, review  # the two halves of the mapping

    out: list[Outcome] = []
    reported: set[int] = set()

    def attempt(order: tuple[int, int], event_type: str | None, anchor: Entry, build) -> None:
        try:
            result = build()
        except Fault as f:
            reported.add(f.entry.index)
            out.append(Outcome(order, event_type, error=f.error, entry=f.entry))
            return
        if result is not None:
            record, key = result
            out.append(Outcome(order, event_type, record=record, key=key, entry=anchor))

    groups, orphans = group_reviews(index)
    for group in groups.values():
        if not group.has_match:
            continue
        anchor = group.encounter or min(group.members, key=lambda m: m.index)
        attempt(
            (group.anchor, 0), REVIEW, anchor, lambda g=group: review.review_event(g, index, ctx)
        )
        for qr in group.results:
            if qr.resource_type == "QuestionnaireResponse":
                attempt(
                    (qr.index, 1),
                    COMMENT,
                    qr,
                    lambda q=qr: comments.questionnaire_comment(q, index, ctx),
                )
    for e in orphans:
        if e.match:
            reported.add(e.index)
            err = ContractError(
                "review.encounter_missing",
                "an ASQ-3 Observation must point at its review Encounter",
                "Observation.encounter",
            )
            out.append(Outcome((e.index, 0), REVIEW, error=err, entry=e))
    for e in index.entries:
        if e.resource_type == "Communication" and e.error is None and e.match:
            kind = comments.communication_kind(e)
            if kind is not None:
                build = lambda c=e: comments.communication_event(c, index, ctx)  # noqa: E731
                attempt((e.index, 0), kind or None, e, build)
    for e in index.entries:
        if e.error is not None and e.match and e.index not in reported:
            out.append(Outcome((e.index, 0), None, error=e.error, entry=e))
    out.sort(key=lambda o: o.order)
    return out
