"""Assessment and enquiry: ssd_cin_assessments (with ssd_assessment_factors),
ssd_s47_enquiry, ssd_initial_cp_conference and ssd_cin_plans."""

from __future__ import annotations

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Lookup,
    Row,
    Source,
    TableMapping,
    code,
    date,
    enum,
    flags,
    json_value,
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)
from schemas.errors import ContractError

ASSESSMENT = "case_management.assessment"
S47 = "case_management.s47_enquiry"
ICPC = "case_management.initial_cp_conference"
CIN_PLAN = "case_management.cin_plan"

FACTORS = enum("chorus.case_management.AssessmentFactor")

ASSESSMENT_OUTCOME = {
    "NFA_FLAG": "nfa",
    "NFA_S47_END_FLAG": "nfa_s47_end",
    "STRATEGY_DISCUSSION_FLAG": "strategy_discussion",
    "CLA_REQUEST_FLAG": "cla_request",
    "PRIVATE_FOSTERING_FLAG": "private_fostering",
    "LEGAL_ACTION_FLAG": "legal_action",
    "PROV_OF_SERVICES_FLAG": "provision_of_services",
    "PROV_OF_SB_CARE_FLAG": "provision_of_short_break_care",
    "SPECIALIST_ASSESSMENT_FLAG": "specialist_assessment",
    "REFERRAL_TO_OTHER_AGENCY_FLAG": "referral_to_other_agency",
    "OTHER_ACTIONS_FLAG": "other_actions",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}
S47_OUTCOME = {
    "NFA_FLAG": "nfa",
    "LEGAL_ACTION_FLAG": "legal_action",
    "PROV_OF_SERVICES_FLAG": "provision_of_services",
    "PROV_OF_SB_CARE_FLAG": "provision_of_short_break_care",
    "CP_CONFERENCE_FLAG": "cp_conference",
    "NFA_CONTINUE_SINGLE_FLAG": "nfa_continue_single_assessment",
    "MONITOR_FLAG": "monitor",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}
ICPC_OUTCOME = {
    "NFA_FLAG": "nfa",
    "REFERRAL_TO_OTHER_AGENCY_FLAG": "referral_to_other_agency",
    "SINGLE_ASSESSMENT_FLAG": "single_assessment",
    "PROV_OF_SERVICES_FLAG": "provision_of_services",
    "CP_FLAG": "cp_plan",
    "OTHER_OUTCOMES_EXIST_FLAG": "other_outcomes_exist",
}
FACTORS_COLUMN = "cinf_assessment_factors_json"


def factor_codes(rows: list[Row]) -> list[str]:
    """CIN factor codes from the SSD JSON: an array ["3B", ...] or an object {"3B": "Yes", ...}."""
    out: list[str] = []
    for row in rows:
        doc = json_value(row.get(FACTORS_COLUMN), FACTORS_COLUMN)
        if doc is None:
            continue
        if isinstance(doc, dict):
            doc = [k for k, v in doc.items() if str(v).strip().upper() in ("Y", "YES", "TRUE", "1")]
        if not isinstance(doc, list):
            raise ContractError(
                "assessment_factors.shape", f"{FACTORS_COLUMN} is not a list", FACTORS_COLUMN
            )
        for item in doc:
            found = code(f"AF_{item}", FACTORS, FACTORS_COLUMN, "assessment_factor.code_list")
            if found is not None and found not in out:
                out.append(found)
    return out


def assessment_events(row: Row, src: Source) -> list[Event]:
    key = str(row["cina_assessment_id"])
    start = required(
        date(row.get("cina_assessment_start_date"), "cina_assessment_start_date"),
        "cina_assessment_start_date",
    )
    referral = required(text(row.get("cina_referral_id")), "cina_referral_id")
    record = {
        "envelope": make_envelope(
            ASSESSMENT,
            row,
            src,
            entity=ssd.cin_assessments.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "cina_person_id"),
            correlation_id=referral,
        ),
        "assessment_id": key,
        "referral_id": referral,
        "start_date": start,
        "authorised_date": date(row.get("cina_assessment_auth_date"), "cina_assessment_auth_date"),
        "child_seen": yn(row.get("cina_assessment_child_seen"), "cina_assessment_child_seen"),
        "factors": factor_codes(row.get("factors") or []),
        "nfa": yn(row.get("cina_assessment_outcome_nfa"), "cina_assessment_outcome_nfa"),
        "outcome": flags(
            row.get("cina_assessment_outcome_json"),
            "cina_assessment_outcome_json",
            ASSESSMENT_OUTCOME,
            total=True,
        ),
        "team": text(row.get("cina_assessment_team")),
        "worker_id": text(row.get("cina_assessment_worker_id")),
    }
    columns = {
        "authorised_date": "cina_assessment_auth_date",
        "factors": FACTORS_COLUMN,
        "outcome": "cina_assessment_outcome_json",
    }
    return [validated(ASSESSMENT, record, columns)]


def s47_events(row: Row, src: Source) -> list[Event]:
    key = str(row["s47e_s47_enquiry_id"])
    start = required(
        date(row.get("s47e_s47_start_date"), "s47e_s47_start_date"), "s47e_s47_start_date"
    )
    referral = required(text(row.get("s47e_referral_id")), "s47e_referral_id")
    outcome = flags(
        row.get("s47e_s47_outcome_json"), "s47e_s47_outcome_json", S47_OUTCOME, total=True
    )
    conference = row.get("conference") or {}
    icpc_required = True if conference else (outcome or {}).get("cp_conference")
    record = {
        "envelope": make_envelope(
            S47,
            row,
            src,
            entity=ssd.s47_enquiry.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "s47e_person_id"),
            correlation_id=referral,
        ),
        "s47_id": key,
        "referral_id": referral,
        "strategy_discussion_date": start,
        "end_date": date(row.get("s47e_s47_end_date"), "s47e_s47_end_date"),
        "icpc_target_date": date(conference.get("icpc_icpc_target_date"), "icpc_icpc_target_date"),
        "icpc_required": icpc_required,
        "nfa": yn(row.get("s47e_s47_nfa"), "s47e_s47_nfa"),
        "outcome": outcome,
        "team": text(row.get("s47e_s47_completed_by_team")),
        "worker_id": text(row.get("s47e_s47_completed_by_worker_id")),
    }
    columns = {
        "end_date": "s47e_s47_end_date",
        "icpc_target_date": "icpc_icpc_target_date",
        "icpc_required": "s47e_s47_outcome_json",
        "outcome": "s47e_s47_outcome_json",
    }
    return [validated(S47, record, columns)]


def icpc_events(row: Row, src: Source) -> list[Event]:
    key = str(row["icpc_icpc_id"])
    held = required(date(row.get("icpc_icpc_date"), "icpc_icpc_date"), "icpc_icpc_date")
    referral = required(text(row.get("icpc_referral_id")), "icpc_referral_id")
    record = {
        "envelope": make_envelope(
            ICPC,
            row,
            src,
            entity=ssd.initial_cp_conference.name,
            key=key,
            event_time=held,
            subject_record=subject(row, "icpc_person_id"),
            correlation_id=referral,
        ),
        "icpc_id": key,
        "meeting_id": text(row.get("icpc_icpc_meeting_id")),
        "s47_id": text(row.get("icpc_s47_enquiry_id")),
        "referral_id": referral,
        "cp_plan_id": text(row.get("icpc_cp_plan_id")),
        "icpc_date": held,
        "target_date": date(row.get("icpc_icpc_target_date"), "icpc_icpc_target_date"),
        "transfer_in": yn(row.get("icpc_icpc_transfer_in"), "icpc_icpc_transfer_in"),
        "outcome_cp": yn(row.get("icpc_icpc_outcome_cp_flag"), "icpc_icpc_outcome_cp_flag"),
        "outcome": flags(
            row.get("icpc_icpc_outcome_json"), "icpc_icpc_outcome_json", ICPC_OUTCOME, total=True
        ),
        "team": text(row.get("icpc_icpc_team")),
    }
    columns = {"outcome_cp": "icpc_icpc_outcome_cp_flag", "outcome": "icpc_icpc_outcome_json"}
    return [validated(ICPC, record, columns)]


def cin_plan_events(row: Row, src: Source) -> list[Event]:
    key = str(row["cinp_cin_plan_id"])
    start = required(
        date(row.get("cinp_cin_plan_start_date"), "cinp_cin_plan_start_date"),
        "cinp_cin_plan_start_date",
    )
    referral = required(text(row.get("cinp_referral_id")), "cinp_referral_id")
    record = {
        "envelope": make_envelope(
            CIN_PLAN,
            row,
            src,
            entity=ssd.cin_plans.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "cinp_person_id"),
            correlation_id=referral,
        ),
        "cin_plan_id": key,
        "referral_id": referral,
        "start_date": start,
        "end_date": date(row.get("cinp_cin_plan_end_date"), "cinp_cin_plan_end_date"),
        "team": text(row.get("cinp_cin_plan_team")),
        "worker_id": text(row.get("cinp_cin_plan_worker_id")),
    }
    return [validated(CIN_PLAN, record, {"end_date": "cinp_cin_plan_end_date"})]


ASSESSMENTS = TableMapping(
    ssd.cin_assessments,
    key="cina_assessment_id",
    event_types=(ASSESSMENT,),
    to_events=assessment_events,
    person="cina_person_id",
    lookups=(
        Lookup(
            "factors",
            ssd.assessment_factors,
            match="cinf_assessment_id",
            on="cina_assessment_id",
            many=True,
            versioned=True,
            order_by=("cinf_table_id",),
        ),
    ),
    description="child and family assessments, with the factors identified",
)
S47_ENQUIRIES = TableMapping(
    ssd.s47_enquiry,
    key="s47e_s47_enquiry_id",
    event_types=(S47,),
    to_events=s47_events,
    person="s47e_person_id",
    lookups=(
        Lookup(
            "conference",
            ssd.initial_cp_conference,
            match="icpc_s47_enquiry_id",
            on="s47e_s47_enquiry_id",
            order_by=("icpc_icpc_date",),
        ),
    ),
    description="section 47 enquiries (with the ICPC target date from the conference)",
)
CONFERENCES = TableMapping(
    ssd.initial_cp_conference,
    key="icpc_icpc_id",
    event_types=(ICPC,),
    to_events=icpc_events,
    person="icpc_person_id",
    description="initial child protection conferences",
)
CIN_PLANS = TableMapping(
    ssd.cin_plans,
    key="cinp_cin_plan_id",
    event_types=(CIN_PLAN,),
    to_events=cin_plan_events,
    person="cinp_person_id",
    description="child in need plans",
)
