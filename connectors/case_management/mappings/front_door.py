"""Contacts and referrals: ssd_contacts -> case_management.contact,
ssd_cin_episodes -> case_management.referral."""

from __future__ import annotations

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Row,
    Source,
    TableMapping,
    code,
    date,
    flags,
    instant,
    make_envelope,
    required,
    subject,
    validated,
    yn,
)

REFERRAL = "case_management.referral"
CONTACT = "case_management.contact"

REFERRAL_SOURCES = frozenset(
    ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F"]
    + ["4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"]
)
PRIMARY_NEEDS = frozenset(f"N{i}" for i in range(10))
CLOSURE_REASONS = frozenset(f"RC{i}" for i in range(1, 10))

REFERRAL_OUTCOME = {
    "SINGLE_ASSESSMENT_FLAG": "single_assessment",
    "NFA_FLAG": "nfa",
    "STRATEGY_DISCUSSION_FLAG": "strategy_discussion",
    "CLA_REQUEST_FLAG": "cla_request",
    "NON_AGENCY_ADOPTION_FLAG": "non_agency_adoption",
    "PRIVATE_FOSTERING_FLAG": "private_fostering",
    "CP_TRANSFER_IN_FLAG": "cp_transfer_in",
    "CP_CONFERENCE_FLAG": "cp_conference",
    "CARE_LEAVER_FLAG": "care_leaver",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}
CONTACT_OUTCOME = {
    "NEW_REFERRAL_FLAG": "new_referral",
    "EXISTING_REFERRAL_FLAG": "existing_referral",
    "CP_ENQUIRY_FLAG": "cp_enquiry",
    "NFA_FLAG": "nfa",
    "NON_AGENCY_ADOPTION_FLAG": "non_agency_adoption",
    "PRIVATE_FOSTERING_FLAG": "private_fostering",
    "ADVICE_FLAG": "advice",
    "MISSING_FLAG": "missing",
    "OLA_CP_FLAG": "ola_cp",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}


def source_code(value: object, column: str) -> str | None:
    """A CIN referral source code as the Avro symbol (RS_ + code)."""
    found = code(value, REFERRAL_SOURCES, column, "referral_source.code_list")
    return None if found is None else f"RS_{found}"


def referral_events(row: Row, src: Source) -> list[Event]:
    key = str(row["cine_referral_id"])
    referral_date = required(
        date(row.get("cine_referral_date"), "cine_referral_date"), "cine_referral_date"
    )
    source = required(
        source_code(row.get("cine_referral_source_code"), "cine_referral_source_code"),
        "cine_referral_source_code",
    )
    record = {
        "envelope": make_envelope(
            REFERRAL,
            row,
            src,
            entity=ssd.cin_episodes.name,
            key=key,
            event_time=referral_date,
            subject_record=subject(row, "cine_person_id"),
            correlation_id=key,
        ),
        "referral_id": key,
        "referral_date": referral_date,
        "referral_source": source,
        "primary_need": code(
            row.get("cine_cin_primary_need_code"),
            PRIMARY_NEEDS,
            "cine_cin_primary_need_code",
            "primary_need.code_list",
        ),
        "referral_nfa": yn(row.get("cine_referral_nfa"), "cine_referral_nfa"),
        "outcome": flags(
            row.get("cine_referral_outcome_json"), "cine_referral_outcome_json", REFERRAL_OUTCOME
        ),
        "close_date": date(row.get("cine_close_date"), "cine_close_date"),
        "close_reason": code(
            row.get("cine_close_reason"),
            CLOSURE_REASONS,
            "cine_close_reason",
            "closure_reason.code_list",
        ),
        "team": row.get("cine_referral_team"),
    }
    return [validated(REFERRAL, record, {"close_date": "cine_close_date"})]


def contact_events(row: Row, src: Source) -> list[Event]:
    key = str(row["cont_contact_id"])
    at = required(instant(row.get("cont_contact_date"), "cont_contact_date"), "cont_contact_date")
    record = {
        "envelope": make_envelope(
            CONTACT,
            row,
            src,
            entity=ssd.contacts.name,
            key=key,
            event_time=at,
            subject_record=subject(row, "cont_person_id"),
            correlation_id=key,
        ),
        "contact_id": key,
        "contact_time": at,
        "source": source_code(row.get("cont_contact_source_code"), "cont_contact_source_code"),
        "outcome": flags(
            row.get("cont_contact_outcome_json"), "cont_contact_outcome_json", CONTACT_OUTCOME
        ),
    }
    return [validated(CONTACT, record, {})]


REFERRALS = TableMapping(
    ssd.cin_episodes,
    key="cine_referral_id",
    event_types=(REFERRAL,),
    to_events=referral_events,
    person="cine_person_id",
    description="CIN referrals (CIN census CINdetails)",
)
CONTACTS = TableMapping(
    ssd.contacts,
    key="cont_contact_id",
    event_types=(CONTACT,),
    to_events=contact_events,
    person="cont_person_id",
    description="contacts at the front door or MASH (Annex A list 1)",
)
