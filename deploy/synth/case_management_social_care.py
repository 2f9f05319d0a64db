"""What follows a synthetic referral: the assessment and its factors, a section 47 enquiry,
an initial child protection conference, a child in need or child protection plan and
its reviews (ssd_cin_assessments, ssd_assessment_factors, ssd_s47_enquiry,
ssd_initial_cp_conference, ssd_cin_plans, ssd_cp_plans, ssd_cp_reviews).

The referral's own outcome flags decide what follows (a single assessment, a
strategy discussion, a conference), so the tables tell one story. Timescales are
the statutory ones roughly kept: assessments authorised within 45 working days
for most, conferences within 15 working days of the strategy discussion, the
first CP review at three months and six-monthly after.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from deploy.synth import case_management_codes as sc_codes
from deploy.synth.case_management_base import Child, Context, age_on, between, flags, poisson, yn
from deploy.synth.case_management_voice import (
    assessment_views,
    conference_views,
    visit_record,
)

ASSESSMENT_OUTCOME_KEYS: tuple[str, ...] = (
    "NFA_FLAG",
    "NFA_S47_END_FLAG",
    "STRATEGY_DISCUSSION_FLAG",
    "CLA_REQUEST_FLAG",
    "PRIVATE_FOSTERING_FLAG",
    "LEGAL_ACTION_FLAG",
    "PROV_OF_SERVICES_FLAG",
    "PROV_OF_SB_CARE_FLAG",
    "SPECIALIST_ASSESSMENT_FLAG",
    "REFERRAL_TO_OTHER_AGENCY_FLAG",
    "OTHER_ACTIONS_FLAG",
    "OTHER_OUTCOMES_EXIST_FLAG",
)
S47_OUTCOME_KEYS: tuple[str, ...] = (
    "NFA_FLAG",
    "LEGAL_ACTION_FLAG",
    "PROV_OF_SERVICES_FLAG",
    "PROV_OF_SB_CARE_FLAG",
    "CP_CONFERENCE_FLAG",
    "NFA_CONTINUE_SINGLE_FLAG",
    "MONITOR_FLAG",
    "OTHER_OUTCOMES_EXIST_FLAG",
)
ICPC_OUTCOME_KEYS: tuple[str, ...] = (
    "NFA_FLAG",
    "REFERRAL_TO_OTHER_AGENCY_FLAG",
    "SINGLE_ASSESSMENT_FLAG",
    "PROV_OF_SERVICES_FLAG",
    "CP_FLAG",
    "OTHER_OUTCOMES_EXIST_FLAG",
)

_CHILD_SEEN_RATE = 0.96
_CIN_PLAN_RATE = 0.30  # of assessed referrals that do not go to a conference
_PLAN_FROM_CONFERENCE_RATE = 0.85
_PLAN_ENDED_RATE = 0.55
_NO_FACTORS_RATE = 0.05


def _with_total(keys: tuple[str, ...], yes: set[str]) -> str:
    doc = json.loads(flags(keys, yes, unrecorded=False))
    doc["TOTAL_NO_OF_OUTCOMES"] = len(yes)
    doc["COMMENTS"] = None  # free text the connector never carries; left empty here
    return json.dumps(doc)


def _factors(ctx: Context) -> list[str]:
    if ctx.chance(_NO_FACTORS_RATE):
        return ["21"]
    found: list[str] = []
    for _ in range(1 + poisson(ctx.rng, 1.6)):
        code = sc_codes.ASSESSMENT_FACTORS.pick(ctx.rng)
        if code not in found:
            found.append(code)
    return found


def follow_referral(ctx: Context, child: Child, referral: dict[str, Any]) -> bool:
    """Write what follows one referral; True when it asked for the child to be looked after."""
    yes = {k for k, v in json.loads(referral["cine_referral_outcome_json"]).items() if v == "Y"}
    if referral["cine_referral_nfa"] == "Y":
        return False
    start: date = referral["cine_referral_date"]
    closed: date | None = referral["cine_close_date"]
    last_day = min(ctx.end, closed) if closed else ctx.end
    team, worker = referral["cine_referral_team"], referral["cine_referral_worker_id"]
    assessment = None
    if "SINGLE_ASSESSMENT_FLAG" in yes:
        assessment = _assessment(ctx, child, referral, start, last_day, team, worker)
    if "STRATEGY_DISCUSSION_FLAG" in yes:
        conference = _s47(ctx, child, referral, start, last_day, "CP_CONFERENCE_FLAG" in yes)
        if conference is not None:
            return "CLA_REQUEST_FLAG" in yes
    if assessment is not None and ctx.chance(_CIN_PLAN_RATE):
        _cin_plan(ctx, child, referral, assessment, last_day, team, worker)
    return "CLA_REQUEST_FLAG" in yes


def _assessment(ctx, child, referral, start, last_day, team, worker) -> date | None:
    began = min(start + timedelta(days=between(ctx.rng, 0, 5)), last_day)
    authorised = began + timedelta(days=between(ctx.rng, 7, 40 if ctx.chance(0.8) else 90))
    if authorised > last_day:
        authorised = None if referral["cine_close_date"] is None else last_day
    key = ctx.next_id("CINA")
    nfa = referral["cine_close_reason"] in ("RC8", "RC9")
    outcome = {"NFA_FLAG"} if nfa else {"PROV_OF_SERVICES_FLAG"}
    if not nfa and ctx.chance(0.15):
        outcome.add("REFERRAL_TO_OTHER_AGENCY_FLAG")
    factors = _factors(ctx)
    row = ctx.add(
        "ssd_cin_assessments",
        {
            "cina_assessment_id": key,
            "cina_person_id": child.person_id,
            "cina_referral_id": referral["cine_referral_id"],
            "cina_assessment_start_date": began,
            "cina_assessment_child_seen": yn(ctx.chance(_CHILD_SEEN_RATE)),
            "cina_assessment_auth_date": authorised,
            "cina_assessment_outcome_json": _with_total(ASSESSMENT_OUTCOME_KEYS, outcome),
            "cina_assessment_outcome_nfa": yn(nfa),
            "cina_assessment_team": team,
            "cina_assessment_worker_id": worker,
            "last_updated": ctx.updated(authorised or began),
        },
    )
    if ctx.corrupt():  # an extract mapping a retired or mistyped factor code
        factors = [*factors[:1], "25A"] if "21" not in factors else ["25A"]
        ctx.record_bad("ssd_cin_assessments", key, "assessment_factor.code_list")
    ctx.add(
        "ssd_assessment_factors",
        {
            "cinf_table_id": ctx.next_int("cinf"),
            "cinf_assessment_id": key,
            "cinf_assessment_factors_json": json.dumps(factors),
            "last_updated": row["last_updated"],
        },
    )
    if age_on(child.dob, began) >= 5 and ctx.chance(0.4):
        assessment_views(ctx, child, key, began)
    return authorised or began


def _s47(ctx, child, referral, start, last_day, to_conference) -> str | None:
    began = min(start + timedelta(days=between(ctx.rng, 0, 7)), last_day)
    ended = began + timedelta(days=between(ctx.rng, 5, 30))
    ended = ended if ended <= last_day else None
    key = ctx.next_id("S47E")
    outcome = {"CP_CONFERENCE_FLAG"} if to_conference else {"NFA_CONTINUE_SINGLE_FLAG"}
    ctx.add(
        "ssd_s47_enquiry",
        {
            "s47e_s47_enquiry_id": key,
            "s47e_referral_id": referral["cine_referral_id"],
            "s47e_person_id": child.person_id,
            "s47e_s47_start_date": began,
            "s47e_s47_end_date": ended,
            "s47e_s47_nfa": yn(not to_conference and ctx.chance(0.5)),
            "s47e_s47_outcome_json": _with_total(S47_OUTCOME_KEYS, outcome),
            "s47e_s47_completed_by_team": referral["cine_referral_team"],
            "s47e_s47_completed_by_worker_id": referral["cine_referral_worker_id"],
            "last_updated": ctx.updated(ended or began),
        },
    )
    if not to_conference:
        return None
    target = began + timedelta(days=21)  # 15 working days
    held = target + timedelta(days=between(ctx.rng, -6, 2 if ctx.chance(0.77) else 20))
    if held > last_day:
        return None
    plan = ctx.chance(_PLAN_FROM_CONFERENCE_RATE)
    icpc = ctx.next_id("ICPC")
    plan_id = ctx.next_id("CPPL") if plan else None
    icpc_yes = {"CP_FLAG"} if plan else {"SINGLE_ASSESSMENT_FLAG"}
    ctx.add(
        "ssd_initial_cp_conference",
        {
            "icpc_icpc_id": icpc,
            "icpc_icpc_meeting_id": ctx.next_id("MTG"),
            "icpc_s47_enquiry_id": key,
            "icpc_person_id": child.person_id,
            "icpc_cp_plan_id": plan_id,
            "icpc_referral_id": referral["cine_referral_id"],
            "icpc_icpc_transfer_in": "N",
            "icpc_icpc_target_date": target,
            "icpc_icpc_date": held,
            "icpc_icpc_outcome_cp_flag": yn(plan),
            "icpc_icpc_outcome_json": _with_total(ICPC_OUTCOME_KEYS, icpc_yes),
            "icpc_icpc_team": referral["cine_referral_team"],
            "last_updated": ctx.updated(held),
        },
    )
    if age_on(child.dob, held) >= 8 and ctx.chance(0.3):
        conference_views(ctx, child, icpc, held)
    if plan_id is not None:
        _cp_plan(ctx, child, referral, icpc, plan_id, held)
    return icpc


def _cp_plan(ctx, child, referral, icpc, plan_id, started) -> None:
    initial = sc_codes.CATEGORIES_OF_ABUSE.pick(ctx.rng)
    latest = initial if ctx.chance(0.9) else sc_codes.CATEGORIES_OF_ABUSE.pick(ctx.rng)
    ended = None
    if ctx.chance(_PLAN_ENDED_RATE):
        candidate = started + timedelta(days=between(ctx.rng, 90, 560))
        ended = candidate if candidate <= ctx.end else None
    end_on = ended
    if ended is not None and ctx.corrupt():  # end typed before start
        end_on = started - timedelta(days=between(ctx.rng, 1, 60))
        ctx.record_bad("ssd_cp_plans", plan_id, "dates.order")
    ctx.add(
        "ssd_cp_plans",
        {
            "cppl_cp_plan_id": plan_id,
            "cppl_referral_id": referral["cine_referral_id"],
            "cppl_icpc_id": icpc,
            "cppl_person_id": child.person_id,
            "cppl_cp_plan_start_date": started,
            "cppl_cp_plan_end_date": end_on,
            "cppl_cp_plan_ola": "N",
            "cppl_cp_plan_initial_category": initial,
            "cppl_cp_plan_latest_category": latest,
            "cppl_cp_plan_team": referral["cine_referral_team"],
            "last_updated": ctx.updated(ended or started),
        },
    )
    due = started + timedelta(days=91)
    last = ended or ctx.end
    while due <= last:
        held = due + timedelta(days=between(ctx.rng, -5, 5))
        if held > ctx.end:
            break
        age = age_on(child.dob, held)
        continues = not (ended is not None and due + timedelta(days=182) > ended)
        ctx.add(
            "ssd_cp_reviews",
            {
                "cppr_cp_review_id": ctx.next_id("CPPR"),
                "cppr_person_id": child.person_id,
                "cppr_cp_plan_id": plan_id,
                "cppr_cp_review_due": due,
                "cppr_cp_review_date": held,
                "cppr_cp_review_meeting_id": ctx.next_id("MTG"),
                "cppr_cp_review_outcome_continue_cp": yn(continues),
                "cppr_cp_review_quorate": yn(ctx.chance(0.95)),
                "cppr_cp_review_participation": (
                    "PN0" if age < 4 else sc_codes.PARTICIPATION.pick(ctx.rng)
                ),
                "last_updated": ctx.updated(held),
            },
        )
        due += timedelta(days=182)


def _cin_plan(ctx, child, referral, assessed, last_day, team, worker) -> None:
    started = min(assessed + timedelta(days=between(ctx.rng, 0, 14)), last_day)
    ended = None
    if referral["cine_close_date"] is not None:
        ended = referral["cine_close_date"]
    elif ctx.chance(0.5):
        candidate = started + timedelta(days=between(ctx.rng, 90, 400))
        ended = candidate if candidate <= ctx.end else None
    key = ctx.next_id("CINP")
    ctx.add(
        "ssd_cin_plans",
        {
            "cinp_cin_plan_id": key,
            "cinp_referral_id": referral["cine_referral_id"],
            "cinp_person_id": child.person_id,
            "cinp_cin_plan_start_date": started,
            "cinp_cin_plan_end_date": ended,
            "cinp_cin_plan_team": team,
            "cinp_cin_plan_worker_id": worker,
            "last_updated": ctx.updated(ended or started),
        },
    )
    if ctx.chance(0.2):
        visit_record(
            ctx, child, key, min(started + timedelta(days=between(ctx.rng, 5, 20)), ctx.end)
        )
