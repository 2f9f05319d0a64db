"""Child protection: ssd_cp_plans -> case_management.cp_plan_started (every version)
and case_management.cp_plan_ended (once it has an end date); ssd_cp_reviews ->
case_management.cp_plan_reviewed (once the review is held)."""

from __future__ import annotations

import datetime as dt

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
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)

STARTED = "case_management.cp_plan_started"
REVIEWED = "case_management.cp_plan_reviewed"
ENDED = "case_management.cp_plan_ended"

CATEGORIES = enum("chorus.case_management.CategoryOfAbuse")
PN_CODES = enum("chorus.case_management.PnParticipation")

PLAN_COLUMNS = {
    "end_date": "cppl_cp_plan_end_date",
    "number_previous_cpp": "cppl_cp_plan_start_date",
}


def category(value: object, column: str) -> str | None:
    return code(value, CATEGORIES, column, "category_of_abuse.code_list")


def is_unborn(row: Row, start: dt.date) -> bool:
    """A pre-birth plan: the child had no date of birth yet, or the plan started before it."""
    dob = date(row.get("_dob"), "pers_dob")
    return (dob is None and row.get("_expected_dob") is not None) or (
        dob is not None and start < dob
    )


def previous_plans(row: Row, start: dt.date) -> int:
    """NumberOfPreviousCPP: the child's plans in this LA that started before this one."""
    return sum(
        1
        for p in row.get("person_plans") or []
        if (d := date(p.get("cppl_cp_plan_start_date"), "cppl_cp_plan_start_date")) is not None
        and d < start
    )


def plan_events(row: Row, src: Source) -> list[Event]:
    key = str(row["cppl_cp_plan_id"])
    start = required(
        date(row.get("cppl_cp_plan_start_date"), "cppl_cp_plan_start_date"),
        "cppl_cp_plan_start_date",
    )
    end = date(row.get("cppl_cp_plan_end_date"), "cppl_cp_plan_end_date")
    referral = required(text(row.get("cppl_referral_id")), "cppl_referral_id")
    common = {
        "cp_plan_id": key,
        "referral_id": referral,
        "start_date": start,
        "initial_category": required(
            category(row.get("cppl_cp_plan_initial_category"), "cppl_cp_plan_initial_category"),
            "cppl_cp_plan_initial_category",
        ),
        "latest_category": category(
            row.get("cppl_cp_plan_latest_category"), "cppl_cp_plan_latest_category"
        ),
        "is_unborn": is_unborn(row, start),
        "number_previous_cpp": previous_plans(row, start),
    }
    who = subject(row, "cppl_person_id")

    def env(event_type: str, when: dt.date, variant: str = "") -> dict:
        return make_envelope(
            event_type,
            row,
            src,
            entity=ssd.cp_plans.name,
            key=key,
            event_time=when,
            subject_record=who,
            correlation_id=referral,
            variant=variant,
        )

    started = {
        "envelope": env(STARTED, start),
        **common,
        "icpc_id": text(row.get("cppl_icpc_id")),
        "other_la_plan": yn(row.get("cppl_cp_plan_ola"), "cppl_cp_plan_ola"),
        "team": text(row.get("cppl_cp_plan_team")),
    }
    events = [validated(STARTED, started, PLAN_COLUMNS)]
    if end is not None:
        ended = {"envelope": env(ENDED, end, "ended"), **common, "end_date": end}
        events.append(validated(ENDED, ended, PLAN_COLUMNS))
    return events


def review_events(row: Row, src: Source) -> list[Event]:
    held = date(row.get("cppr_cp_review_date"), "cppr_cp_review_date")
    if held is None:
        return []  # scheduled, not yet held: nothing has happened to publish
    key = str(row["cppr_cp_review_id"])
    plan_id = required(text(row.get("cppr_cp_plan_id")), "cppr_cp_plan_id")
    plan = row.get("plan") or {}
    record = {
        "envelope": make_envelope(
            REVIEWED,
            row,
            src,
            entity=ssd.cp_reviews.name,
            key=key,
            event_time=held,
            subject_record=subject(row, "cppr_person_id"),
            correlation_id=plan_id,
        ),
        "cp_plan_id": plan_id,
        "review_id": key,
        "review_due_date": date(row.get("cppr_cp_review_due"), "cppr_cp_review_due"),
        "review_date": held,
        "continue_cp": yn(
            row.get("cppr_cp_review_outcome_continue_cp"), "cppr_cp_review_outcome_continue_cp"
        ),
        "quorate": yn(row.get("cppr_cp_review_quorate"), "cppr_cp_review_quorate"),
        "participation": code(
            row.get("cppr_cp_review_participation"),
            PN_CODES,
            "cppr_cp_review_participation",
            "pn_participation.code_list",
        ),
        "latest_category": category(
            plan.get("cppl_cp_plan_latest_category"), "cppl_cp_plan_latest_category"
        ),
    }
    return [validated(REVIEWED, record, {})]


CP_PLANS = TableMapping(
    ssd.cp_plans,
    key="cppl_cp_plan_id",
    event_types=(STARTED, ENDED),
    to_events=plan_events,
    person="cppl_person_id",
    lookups=(
        Lookup(
            "person_plans",
            ssd.cp_plans,
            match="cppl_person_id",
            on="cppl_person_id",
            many=True,
        ),
    ),
    description="child protection plans: started on every version, ended once they end",
)
CP_REVIEWS = TableMapping(
    ssd.cp_reviews,
    key="cppr_cp_review_id",
    event_types=(REVIEWED,),
    to_events=review_events,
    person="cppr_person_id",
    lookups=(Lookup("plan", ssd.cp_plans, match="cppl_cp_plan_id", on="cppr_cp_plan_id"),),
    description="child protection review conferences, once held",
)
