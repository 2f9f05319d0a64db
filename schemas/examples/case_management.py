"""One synthetic example record per ``case_management.*`` event type (no real person's data).

Four invented children in fictitious LA 999, with NHS numbers from the synthetic
999 range and a UPN with a fictitious LA number:

- C0000001: referred by her school, assessed, a section 47 enquiry and a child
  protection plan (contact through cp_plan_ended);
- C0000002: looked after in foster care (cla_*, missing_episode);
- C0000003: a care leaver (care_leaver_contact, pathway_plan_reviewed);
- C0000004 in family F0000001: whole-family early help (early_help_*).

Names and postcodes are made up (postcode area ZZ does not exist).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from schemas.examples import envelope
from schemas.identifiers import synthetic_nhs_number, synthetic_upn

__all__ = ["CHILDREN", "EXAMPLES", "example"]

UTC = dt.UTC

CHILDREN: dict[str, dict[str, Any]] = {
    "C0000001": {
        "la_child_id": "C0000001",
        "nhs_number": synthetic_nhs_number(0),
        "nhs_number_verified": True,
        "upn": synthetic_upn("999", 2001, 16, 7),
    },
    "C0000002": {
        "la_child_id": "C0000002",
        "nhs_number": synthetic_nhs_number(1),
        "nhs_number_verified": True,
        "upn": synthetic_upn("999", 2003, 15, 112),
    },
    "C0000003": {
        "la_child_id": "C0000003",
        "nhs_number": synthetic_nhs_number(2),
        "nhs_number_verified": True,
        "upn": None,
    },
    "C0000004": {
        "la_child_id": "C0000004",
        "nhs_number": synthetic_nhs_number(5),
        "nhs_number_verified": False,
        "upn": synthetic_upn("999", 2002, 20, 31),
        "family_id": "F0000001",
    },
}


def _env(
    event: str,
    *,
    key: str,
    child: str,
    when: dt.datetime | dt.date,
    entity: str,
    recorded: dt.datetime,
    **extra: Any,
) -> dict[str, Any]:
    return envelope(
        f"case_management.{event}",
        key=key,
        when=when,
        recorded=recorded,
        entity=entity,
        **CHILDREN[child],
        **extra,
    )


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=UTC)


D = dt.date

# --------------------------------------------------------------------------- C0000001

PERSON_REGISTERED = {
    "envelope": _env(
        "person_registered",
        key="C0000001",
        child="C0000001",
        when=_at(2025, 3, 13, 11, 5),
        entity="ssd_person",
        recorded=_at(2025, 3, 13, 11, 5),
    ),
    "forename": "Maisie",
    "surname": "Examplechild",
    "dob": D(2012, 6, 15),
    "expected_dob": None,
    "sex": "F",
    "gender": "02",
    "ethnicity": "WBRI",
    "death_date": None,
    "nationality": None,
    "upn_unknown": None,
    "disabilities": ["NONE"],
    "send_flag": False,
    "is_mother": False,
    "postcode": "ZZ1 4AB",
}

IDENTIFIER_LINKED = {
    "envelope": _env(
        "identifier_linked",
        key="LI0000001",
        child="C0000001",
        when=_at(2025, 3, 13, 11, 20),
        entity="ssd_linked_identifiers",
        recorded=_at(2025, 3, 13, 11, 20),
    ),
    "identifier_type": "NHS_NUMBER",
    "value": synthetic_nhs_number(0),
    "valid_from": D(2025, 3, 13),
    "valid_to": None,
    "verified": True,
    "check_passed": True,
}

CONTACT = {
    "envelope": _env(
        "contact",
        key="CT0000001",
        child="C0000001",
        when=_at(2025, 3, 13, 10, 42),
        entity="ssd_contacts",
        recorded=_at(2025, 3, 13, 15, 10),
    ),
    "contact_id": "CT0000001",
    "contact_time": _at(2025, 3, 13, 10, 42),
    "source": "RS_2A",
    "outcome": {
        "new_referral": True,
        "existing_referral": False,
        "cp_enquiry": False,
        "nfa": False,
        "non_agency_adoption": False,
        "private_fostering": False,
        "advice": False,
        "missing": False,
        "ola_cp": False,
        "other_outcomes_exist": False,
    },
}

REFERRAL = {
    "envelope": _env(
        "referral",
        key="R0000001",
        child="C0000001",
        when=D(2025, 3, 14),
        entity="ssd_cin_episodes",
        recorded=_at(2025, 3, 15, 9, 30),
        correlation_id="R0000001",
    ),
    "referral_id": "R0000001",
    "referral_date": D(2025, 3, 14),
    "referral_source": "RS_2A",
    "primary_need": "N1",
    "referral_nfa": False,
    "outcome": {
        "single_assessment": True,
        "nfa": False,
        "strategy_discussion": False,
        "cla_request": False,
        "non_agency_adoption": False,
        "private_fostering": False,
        "cp_transfer_in": False,
        "cp_conference": False,
        "care_leaver": False,
        "other_outcomes_exist": False,
    },
    "close_date": None,
    "close_reason": None,
    "team": "T01",
}

ASSESSMENT = {
    "envelope": _env(
        "assessment",
        key="A0000001",
        child="C0000001",
        when=D(2025, 4, 22),
        entity="ssd_cin_assessments",
        recorded=_at(2025, 4, 22, 16, 45),
        correlation_id="R0000001",
    ),
    "assessment_id": "A0000001",
    "referral_id": "R0000001",
    "start_date": D(2025, 3, 17),
    "authorised_date": D(2025, 4, 22),
    "child_seen": True,
    "factors": ["AF_3A", "AF_4B", "AF_16A"],
    "nfa": False,
    "outcome": {
        "nfa": False,
        "nfa_s47_end": False,
        "strategy_discussion": True,
        "cla_request": False,
        "private_fostering": False,
        "legal_action": False,
        "provision_of_services": True,
        "provision_of_short_break_care": False,
        "specialist_assessment": False,
        "referral_to_other_agency": True,
        "other_actions": False,
        "other_outcomes_exist": False,
        "total_outcomes": 3,
    },
    "team": "T01",
    "worker_id": "W0012",
}

S47_ENQUIRY = {
    "envelope": _env(
        "s47_enquiry",
        key="S0000001",
        child="C0000001",
        when=D(2025, 4, 24),
        entity="ssd_s47_enquiry",
        recorded=_at(2025, 4, 24, 17, 0),
        correlation_id="R0000001",
    ),
    "s47_id": "S0000001",
    "referral_id": "R0000001",
    "strategy_discussion_date": D(2025, 4, 10),
    "end_date": D(2025, 4, 24),
    "icpc_target_date": D(2025, 5, 6),
    "icpc_required": True,
    "nfa": False,
    "outcome": {
        "nfa": False,
        "legal_action": False,
        "provision_of_services": False,
        "provision_of_short_break_care": False,
        "cp_conference": True,
        "nfa_continue_single_assessment": False,
        "monitor": False,
        "other_outcomes_exist": False,
        "total_outcomes": 1,
    },
    "team": "T01",
    "worker_id": "W0012",
}

INITIAL_CP_CONFERENCE = {
    "envelope": _env(
        "initial_cp_conference",
        key="I0000001",
        child="C0000001",
        when=D(2025, 5, 1),
        entity="ssd_initial_cp_conference",
        recorded=_at(2025, 5, 1, 14, 30),
        correlation_id="R0000001",
    ),
    "icpc_id": "I0000001",
    "meeting_id": "M0000001",
    "s47_id": "S0000001",
    "referral_id": "R0000001",
    "cp_plan_id": "P0000001",
    "icpc_date": D(2025, 5, 1),
    "target_date": D(2025, 5, 6),
    "transfer_in": False,
    "outcome_cp": True,
    "outcome": {
        "nfa": False,
        "referral_to_other_agency": False,
        "single_assessment": False,
        "provision_of_services": True,
        "cp_plan": True,
        "other_outcomes_exist": False,
        "total_outcomes": 2,
    },
    "team": "T01",
}

CIN_PLAN = {
    "envelope": _env(
        "cin_plan",
        key="CINP0000001",
        child="C0000001",
        when=D(2025, 5, 1),
        entity="ssd_cin_plans",
        recorded=_at(2025, 5, 1, 15, 0),
        correlation_id="R0000001",
    ),
    "cin_plan_id": "CINP0000001",
    "referral_id": "R0000001",
    "start_date": D(2025, 4, 23),
    "end_date": D(2025, 5, 1),
    "team": "T01",
    "worker_id": "W0012",
}

CP_PLAN_STARTED = {
    "envelope": _env(
        "cp_plan_started",
        key="P0000001",
        child="C0000001",
        when=D(2025, 5, 1),
        entity="ssd_cp_plans",
        recorded=_at(2025, 5, 1, 15, 5),
        correlation_id="R0000001",
    ),
    "cp_plan_id": "P0000001",
    "referral_id": "R0000001",
    "icpc_id": "I0000001",
    "start_date": D(2025, 5, 1),
    "initial_category": "NEG",
    "latest_category": None,
    "is_unborn": False,
    "number_previous_cpp": 0,
    "other_la_plan": False,
    "team": "T01",
}

CP_PLAN_REVIEWED = {
    "envelope": _env(
        "cp_plan_reviewed",
        key="CPR0000001",
        child="C0000001",
        when=D(2025, 7, 24),
        entity="ssd_cp_reviews",
        recorded=_at(2025, 7, 24, 16, 0),
        correlation_id="R0000001",
    ),
    "cp_plan_id": "P0000001",
    "review_id": "CPR0000001",
    "review_due_date": D(2025, 7, 31),
    "review_date": D(2025, 7, 24),
    "continue_cp": True,
    "quorate": True,
    "participation": "PN1",
    "latest_category": "NEG",
}

CP_PLAN_ENDED = {
    "envelope": _env(
        "cp_plan_ended",
        key="P0000001",
        child="C0000001",
        when=D(2026, 1, 22),
        entity="ssd_cp_plans",
        recorded=_at(2026, 1, 22, 15, 40),
        correlation_id="R0000001",
    ),
    "cp_plan_id": "P0000001",
    "referral_id": "R0000001",
    "start_date": D(2025, 5, 1),
    "end_date": D(2026, 1, 22),
    "initial_category": "NEG",
    "latest_category": "NEG",
    "is_unborn": False,
    "number_previous_cpp": 0,
}

# --------------------------------------------------------------------------- C0000002

CLA_EPISODE = {
    "envelope": _env(
        "cla_episode",
        key="E0000001",
        child="C0000002",
        when=D(2024, 11, 4),
        entity="ssd_cla_episodes",
        recorded=_at(2025, 2, 10, 12, 0),
        correlation_id="POC0000001",
    ),
    "episode_id": "E0000001",
    "period_of_care_id": "POC0000001",
    "referral_id": "R0000002",
    "start_date": D(2024, 11, 4),
    "rne": "S",
    "legal_status": "C1",
    "category_of_need": "N1",
    "placement_id": "PL0000001",
    "placement_type": "U4",
    "placement_provider": "PR1",
    "urn": None,
    "home_postcode": "ZZ1 4AB",
    "placement_postcode": "ZZ2 5CD",
    "distance_miles": 4.2,
    "end_date": D(2025, 2, 10),
    "reason_episode_ceased": "X1",
    "reason_place_change": None,
    "uasc": False,
}

CLA_PLACEMENT = {
    "envelope": _env(
        "cla_placement",
        key="PL0000001",
        child="C0000002",
        when=D(2024, 11, 4),
        entity="ssd_cla_placement",
        recorded=_at(2025, 6, 30, 17, 15),
        correlation_id="POC0000001",
    ),
    "placement_id": "PL0000001",
    "period_of_care_id": "POC0000001",
    "start_date": D(2024, 11, 4),
    "end_date": D(2025, 6, 30),
    "placement_type": "U4",
    "placement_provider": "PR1",
    "urn": None,
    "placement_postcode": "ZZ2 5CD",
    "distance_miles": 4.2,
    "change_reason": "CARPL",
}

CLA_REVIEW = {
    "envelope": _env(
        "cla_review",
        key="RV0000001",
        child="C0000002",
        when=D(2024, 11, 28),
        entity="ssd_cla_reviews",
        recorded=_at(2024, 11, 28, 16, 20),
        correlation_id="POC0000001",
    ),
    "review_id": "RV0000001",
    "period_of_care_id": "POC0000001",
    "due_date": D(2024, 12, 2),
    "review_date": D(2024, 11, 28),
    "cancelled": False,
    "participation": "PN1",
}

MISSING_EPISODE = {
    "envelope": _env(
        "missing_episode",
        key="MS0000001",
        child="C0000002",
        when=_at(2025, 2, 14, 21, 30),
        entity="ssd_missing",
        recorded=_at(2025, 2, 17, 10, 5),
        correlation_id="POC0000001",
    ),
    "missing_id": "MS0000001",
    "start_time": _at(2025, 2, 14, 21, 30),
    "end_time": _at(2025, 2, 15, 8, 15),
    "missing_type": "M",
    "rhi_offered": "Y",
    "rhi_accepted": "Y",
}

# --------------------------------------------------------------------------- C0000003

CARE_LEAVER_CONTACT = {
    "envelope": _env(
        "care_leaver_contact",
        key="C0000003",
        child="C0000003",
        when=D(2025, 9, 10),
        entity="ssd_care_leavers",
        recorded=_at(2025, 9, 10, 14, 0),
    ),
    "contact_date": D(2025, 9, 10),
    "in_touch": "YES",
    "activity": "ACT_F5",
    "accommodation": "U",
    "accommodation_suitable": True,
    "eligibility": "FORMER_RELEVANT",
    "personal_adviser_id": "PA0007",
    "team": "T09",
}

PATHWAY_PLAN_REVIEWED = {
    "envelope": _env(
        "pathway_plan_reviewed",
        key="PPR0000001",
        child="C0000003",
        when=D(2025, 9, 10),
        entity="ssd_care_leavers",
        recorded=_at(2025, 9, 11, 9, 0),
    ),
    "review_id": "PPR0000001",
    "review_date": D(2025, 9, 10),
    "next_review_date": D(2026, 3, 10),
    "personal_adviser_id": "PA0007",
    "eligibility": "FORMER_RELEVANT",
    "domains": [
        {
            "domain": "ACCOMMODATION",
            "status": "MET",
            "young_person_rating": 8,
            "adviser_rating": 7,
        },
        {
            "domain": "EDUCATION_TRAINING",
            "status": "PARTLY_MET",
            "young_person_rating": 5,
            "adviser_rating": 6,
        },
        {"domain": "FINANCE", "status": "NOT_MET", "young_person_rating": 3, "adviser_rating": 5},
        {
            "domain": "HEALTH_WELLBEING",
            "status": "MET",
            "young_person_rating": None,
            "adviser_rating": None,
        },
    ],
}

# --------------------------------------------------------------------------- C0000004

EARLY_HELP_EPISODE_STARTED = {
    "envelope": _env(
        "early_help_episode_started",
        key="EH0000001",
        child="C0000004",
        when=D(2025, 1, 6),
        entity="ssd_early_help_episodes",
        recorded=_at(2025, 1, 6, 13, 0),
        correlation_id="EH0000001",
    ),
    "episode_id": "EH0000001",
    "start_date": D(2025, 1, 6),
    "reason_code": "EH_PARENTING",
    "lead_organisation": "FAMILY_HUB_NORTH",
    "worker_id": "W0107",
    "family_needs": ["EDUCATION", "FAMILY_RELATIONSHIPS", "FINANCIAL_STABILITY"],
}

EARLY_HELP_EPISODE_ENDED = {
    "envelope": _env(
        "early_help_episode_ended",
        key="EH0000001",
        child="C0000004",
        when=D(2025, 7, 18),
        entity="ssd_early_help_episodes",
        recorded=_at(2025, 7, 18, 11, 30),
        correlation_id="EH0000001",
    ),
    "episode_id": "EH0000001",
    "start_date": D(2025, 1, 6),
    "end_date": D(2025, 7, 18),
    "end_reason": "OUTCOMES_MET",
    "lead_organisation": "FAMILY_HUB_NORTH",
    "worker_id": "W0107",
    "family_needs": ["EDUCATION", "FAMILY_RELATIONSHIPS", "FINANCIAL_STABILITY"],
}

EARLY_HELP_OUTCOME_EVIDENCED = {
    "envelope": _env(
        "early_help_outcome_evidenced",
        key="OE0000001",
        child="C0000004",
        when=D(2026, 1, 19),
        entity="eh_outcome_evidence",
        recorded=_at(2026, 1, 20, 9, 45),
        correlation_id="EH0000001",
    ),
    "outcome_id": "OE0000001",
    "family_id": "F0000001",
    "episode_id": "EH0000001",
    "headline": "EDUCATION",
    "sub_outcome": "EDU_ATTENDANCE_90",
    "evidence_source": "ADMINISTRATIVE_DATA",
    "achieved_date": D(2025, 4, 4),
    "sustained_until": D(2026, 1, 19),
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "case_management.person_registered": PERSON_REGISTERED,
    "case_management.identifier_linked": IDENTIFIER_LINKED,
    "case_management.contact": CONTACT,
    "case_management.referral": REFERRAL,
    "case_management.assessment": ASSESSMENT,
    "case_management.s47_enquiry": S47_ENQUIRY,
    "case_management.initial_cp_conference": INITIAL_CP_CONFERENCE,
    "case_management.cin_plan": CIN_PLAN,
    "case_management.cp_plan_started": CP_PLAN_STARTED,
    "case_management.cp_plan_reviewed": CP_PLAN_REVIEWED,
    "case_management.cp_plan_ended": CP_PLAN_ENDED,
    "case_management.cla_episode": CLA_EPISODE,
    "case_management.cla_placement": CLA_PLACEMENT,
    "case_management.cla_review": CLA_REVIEW,
    "case_management.missing_episode": MISSING_EPISODE,
    "case_management.care_leaver_contact": CARE_LEAVER_CONTACT,
    "case_management.pathway_plan_reviewed": PATHWAY_PLAN_REVIEWED,
    "case_management.early_help_episode_started": EARLY_HELP_EPISODE_STARTED,
    "case_management.early_help_episode_ended": EARLY_HELP_EPISODE_ENDED,
    "case_management.early_help_outcome_evidenced": EARLY_HELP_OUTCOME_EVIDENCED,
}


def example(event_type: str) -> dict[str, Any]:
    """A deep copy of the example of ``event_type``, safe to change in a test."""
    return copy.deepcopy(EXAMPLES[event_type])
