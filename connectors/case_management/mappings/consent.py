"""Sharing preferences and objections: ssd_sharing_preferences ->
consent.sharing_preference_recorded.

A dedicated table, not form answers: a preference is a small typed record (who,
scope, decision, period, withdrawal, override) that the sharing policy reads as
it is, and LAs that keep it in a form can fill the table from that form. The
child's age is worked out from ssd_person on the date the preference took effect.
"""

from __future__ import annotations

import datetime as dt

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Row,
    Source,
    TableMapping,
    code,
    date,
    enum,
    instant,
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)

PREFERENCE = "consent.sharing_preference_recorded"

HOLDERS = enum("chorus.consent.PreferenceHolder")
COMPETENCE = enum("chorus.consent.CompetenceAssessment")
DECISIONS = enum("chorus.consent.SharingDecision")
OVERRIDES = enum("chorus.consent.OverrideReason")

COLUMNS = {
    "child_age_years": "pers_dob",
    "purpose": "shpr_purpose",
    "recipient": "shpr_recipient",
    "data_category": "shpr_data_category",
    "effective_to": "shpr_effective_to",
    "withdrawn_at": "shpr_withdrawn_at",
    "override": "shpr_override_reason",
    "legal_reference": "shpr_override_legal_reference",
    "recorded_by_role": "shpr_override_by_role",
}


def age_on(dob: dt.date | None, day: dt.date) -> int:
    if dob is None or day < dob:
        return 0  # unborn, or before birth: a pre-birth preference is the parent's
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def preference_events(row: Row, src: Source) -> list[Event]:
    key = str(row["shpr_preference_id"])
    start = required(
        instant(row.get("shpr_effective_from"), "shpr_effective_from"), "shpr_effective_from"
    )
    withdrawn_at = instant(row.get("shpr_withdrawn_at"), "shpr_withdrawn_at")
    override = None
    reason = code(
        row.get("shpr_override_reason"),
        OVERRIDES,
        "shpr_override_reason",
        "override_reason.code_list",
    )
    if reason is not None:
        override = {
            "reason_code": reason,
            "legal_reference": text(row.get("shpr_override_legal_reference")),
            "recorded_by_role": required(
                text(row.get("shpr_override_by_role")), "shpr_override_by_role"
            ),
            "recorded_at": required(
                instant(row.get("shpr_override_at"), "shpr_override_at"), "shpr_override_at"
            ),
        }
    record = {
        "envelope": make_envelope(
            PREFERENCE,
            row,
            src,
            entity=ssd.sharing_preferences.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "shpr_person_id"),
        ),
        "preference_id": key,
        "expressed_by": required(
            code(
                row.get("shpr_expressed_by"),
                HOLDERS,
                "shpr_expressed_by",
                "preference_holder.code_list",
            ),
            "shpr_expressed_by",
        ),
        "child_age_years": age_on(date(row.get("_dob"), "pers_dob"), start.date()),
        "competence_assessed": code(
            row.get("shpr_competence_assessed"),
            COMPETENCE,
            "shpr_competence_assessed",
            "competence_assessment.code_list",
        )
        or "NOT_ASSESSED",
        "scope": {
            "purpose": text(row.get("shpr_purpose")),
            "recipient": text(row.get("shpr_recipient")),
            "data_category": text(row.get("shpr_data_category")),
        },
        "decision": required(
            code(
                row.get("shpr_decision"), DECISIONS, "shpr_decision", "sharing_decision.code_list"
            ),
            "shpr_decision",
        ),
        "effective_from": start,
        "effective_to": instant(row.get("shpr_effective_to"), "shpr_effective_to"),
        "withdrawn": withdrawn_at is not None,
        "withdrawn_at": withdrawn_at,
        "override": override,
        "national_data_opt_out": yn(
            row.get("shpr_national_data_opt_out"), "shpr_national_data_opt_out"
        ),
    }
    return [validated(PREFERENCE, record, COLUMNS)]


SHARING_PREFERENCES = TableMapping(
    ssd.sharing_preferences,
    key="shpr_preference_id",
    event_types=(PREFERENCE,),
    to_events=preference_events,
    person="shpr_person_id",
    description="children's and families' sharing preferences and objections",
)
