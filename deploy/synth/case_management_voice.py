"""Children's and families' voice in synthetic form answers, and their sharing preferences
(ssd_form_answers, ssd_sharing_preferences).

Form types and question codes are the ones connectors/case_management/voice_mapping.yaml
declares, plus a form that is not voice at all (a CIN visit record), as real systems
mix them. Every sentence is assembled from short TEMPLATES of invented wording: none
comes from a real case, and no instrument's item wording is used (scores only). A few
templates name an invented person and a phone number from Ofcom's range for drama
(01632 960xxx), as real statements do, so the sharing policy's scrubbing is exercised.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from deploy.synth import case_management_codes as sc_codes
from deploy.synth.case_management_base import Child, Context, age_on, between, clamp, pick, yn

# --------------------------------------------------------------------------- templates

_CHILD_OPENERS = (
    "I like",
    "I don't like",
    "I want to keep",
    "I wish I had more",
    "It's good when I have",
    "I get worried about",
    "I feel happy about",
    "I feel sad about",
    "I'd like help with",
)
_CHILD_THINGS = (
    "living here",
    "seeing my mum at the weekend",
    "my new school",
    "the dog at my carer's house",
    "having my own room",
    "football after school",
    "moving again",
    "bedtime",
    "my bike",
    "phone calls with my brother",
    "my worker changing",
    "swimming on Tuesdays",
    "the food at home",
    "my friends from my old street",
    "going to the park",
    "homework",
    "texting Callum on 01632 960412",
)
_CHILD_ENDINGS = (
    ".",
    " because it helps me feel calm.",
    " and I want it to stay the same.",
    ", please can it change.",
    " but I don't always say so.",
    " most days.",
)
_THEMES = (
    "feeling_safe",
    "school",
    "family_time",
    "friends",
    "home",
    "contact",
    "worker_change",
    "health",
    "activities",
    "food",
    "sleep",
)
_YP_SENTENCES = (
    "I want to learn to drive this year.",
    "Help with budgeting would make a difference.",
    "My flat feels like mine now.",
    "I want to start college in September.",
    "I need more help with forms and bills.",
    "My PA listens to me.",
    "I'd like to see my sister more often.",
    "I want a job in a garage.",
    "Cooking for myself is getting easier.",
    "I worry about money at the end of the month.",
    "My PA Shona says I can ring her on 01632 960771 any time.",
)
_NOTE_ANSWERS = {
    "VNWhatMatters": (
        "That the children feel settled and keep going to the same school.",
        "Being together as a family at tea time.",
        "That everyone sleeps better.",
    ),
    "VNWhatsWorking": (
        "Their grandad picks them up twice a week.",
        "Mornings are calmer since the new routine.",
        "School have been kind and patient.",
        "Nana Brenda has the kids on Fridays, her number is 01632 960058.",
    ),
    "VNWorries": (
        "Mornings are hard and we are often late.",
        "Money runs out before payday.",
        "Our youngest is not talking much yet.",
    ),
    "VNWhatWouldHelp": (
        "Someone to talk things through with once a week.",
        "Help with the bedtime routine.",
        "Advice about benefits and debts.",
    ),
}


def _child_words(ctx: Context) -> str:
    sentences = [
        f"{pick(ctx.rng, _CHILD_OPENERS)} {pick(ctx.rng, _CHILD_THINGS)}"
        f"{pick(ctx.rng, _CHILD_ENDINGS)}"
        for _ in range(between(ctx.rng, 1, 3))
    ]
    return " ".join(sentences)


def _themes(ctx: Context) -> str:
    return ",".join(sorted({pick(ctx.rng, _THEMES) for _ in range(between(ctx.rng, 1, 3))}))


def _consent(ctx: Context, reports: str, quotes: str) -> list[tuple[str, str]]:
    strategic = ctx.chance(0.75)
    return [(reports, yn(strategic)), (quotes, yn(strategic and ctx.chance(0.5)))]


# --------------------------------------------------------------------------- forms


def _form(
    ctx: Context, form_type: str, child: Child, day: date, answers: list[tuple[str, Any]]
) -> str:
    """One form: its answers share the form id and the time the form was saved."""
    form_id = ctx.next_id("FRM", 8)
    answered = ctx.at(min(day, ctx.end))
    saved = ctx.updated(answered, max_lag_days=7)
    for i, (question, answer) in enumerate(answers):
        if answer is None:
            continue
        ctx.add(
            "ssd_form_answers",
            {
                "foan_answer_id": ctx.next_int("foan"),
                "foan_form_id": form_id,
                "foan_form_type": form_type,
                "foan_person_id": child.person_id,
                "foan_question_code": question,
                "foan_answer": str(answer),
                "foan_answered_at": min(answered + timedelta(minutes=i), saved),
                "last_updated": saved,
            },
        )
    return form_id


def assessment_views(ctx: Context, child: Child, assessment_id: str, day: date) -> None:
    """A Signs of Safety scale asked of the child and of the worker (correlated, differing)."""
    child_score = clamp(ctx.rng.gauss(5.5, 2.2), 0, 10)
    worker_score = clamp(child_score - 1 + ctx.rng.gauss(0, 1.5), 0, 10)
    shown: Any = child_score
    form_id_bad = ctx.corrupt()  # a scale answer typed out of range
    if form_id_bad:
        shown = 11
    form_id = _form(
        ctx,
        "ASSESSMENT_SIGNS_OF_SAFETY",
        child,
        day + timedelta(days=between(ctx.rng, 3, 20)),
        [
            ("SOSAssessmentId", assessment_id),
            ("SOSChildScale", shown),
            ("SOSChildWords", _child_words(ctx) if ctx.chance(0.7) else None),
            ("SOSWorkerScale", worker_score),
            *_consent(ctx, "SOSChildConsentReports", "SOSChildConsentQuotes"),
        ],
    )
    if form_id_bad:
        ctx.record_bad("ssd_form_answers", form_id, "voice.score_scale")


def conference_views(ctx: Context, child: Child, icpc_id: str, day: date) -> None:
    """A Mind Of My Own statement sent before the conference."""
    _form(
        ctx,
        "CP_CONFERENCE_MOMO",
        child,
        day - timedelta(days=between(ctx.rng, 1, 6)),
        [
            ("CPConferenceId", icpc_id),
            ("MOMOStatement", _child_words(ctx)),
            ("MOMOFeeling", between(ctx.rng, 1, 5)),
            ("MOMOThemes", _themes(ctx)),
            *_consent(ctx, "MOMOConsentReports", "MOMOConsentQuotes"),
        ],
    )


def cla_review_views(ctx: Context, child: Child, review_id: str, day: date) -> None:
    """The child's or young person's views gathered before a looked-after review."""
    _form(
        ctx,
        "CLA_REVIEW_VIEWS",
        child,
        day - timedelta(days=between(ctx.rng, 0, 7)),
        [
            ("LACReviewId", review_id),
            ("LACChildViews", _child_words(ctx) if ctx.chance(0.85) else None),
            ("LACExplainedWorries", yn(ctx.chance(0.7))),
            ("LACAgreeWorker", yn(ctx.chance(0.65)) if ctx.chance(0.9) else None),
            ("LACPlanSafe", yn(ctx.chance(0.8))),
            ("LACHowViewsGiven", sc_codes.VOICE_MODES.pick(ctx.rng)),
            ("LACThemes", _themes(ctx)),
            ("LACLanguage", sc_codes.LANGUAGES.pick(ctx.rng)),
            *_consent(ctx, "LACConsentReports", "LACConsentQuotes"),
        ],
    )


def pathway_views(ctx: Context, child: Child, review_id: str, day: date) -> None:
    """A care leaver's own words for their pathway plan review."""
    words = " ".join(pick(ctx.rng, _YP_SENTENCES) for _ in range(between(ctx.rng, 1, 3)))
    _form(
        ctx,
        "PATHWAY_PLAN_VIEWS",
        child,
        day,
        [
            ("PPReviewId", review_id),
            ("PPMyViews", words),
            ("PPFeltListenedTo", yn(ctx.chance(0.8))),
            ("PPLanguage", sc_codes.LANGUAGES.pick(ctx.rng)),
            *_consent(ctx, "PPConsentReports", "PPConsentQuotes"),
        ],
    )


def voice_note(ctx: Context, child: Child, episode_id: str, day: date) -> None:
    """A parent's Voice Note soon after an early help referral, before the hub meeting."""
    answers: list[tuple[str, Any]] = [
        ("VNReferralId", episode_id),
        ("VNHubMeetingDate", (day + timedelta(days=between(ctx.rng, 5, 14))).isoformat()),
        ("VNLanguage", sc_codes.LANGUAGES.pick(ctx.rng)),
    ]
    for question, options in _NOTE_ANSWERS.items():
        if question == "VNWhatWouldHelp" and ctx.chance(0.1):
            answers.append((question, ""))  # chose not to answer
        else:
            answers.append((question, pick(ctx.rng, options)))
    answers += _consent(ctx, "VNConsentReports", "VNConsentQuotes")
    _form(ctx, "EH_VOICE_NOTE", child, day + timedelta(days=between(ctx.rng, 1, 10)), answers)


def visit_record(ctx: Context, child: Child, plan_id: str, day: date) -> None:
    """A CIN visit form: answers that are not voice, which the connector must leave alone."""
    _form(
        ctx,
        "CIN_VISIT_RECORD",
        child,
        day,
        [
            ("PlanId", plan_id),
            ("seenYN", yn(ctx.chance(0.95))),
            ("seenAloneYN", yn(ctx.chance(0.6))),
            ("bedroomSeenYN", yn(ctx.chance(0.5))),
        ],
    )


# --------------------------------------------------------------------------- preferences


def sharing_preference(ctx: Context, child: Child, day: date, *, looked_after: bool) -> None:
    """A wish about sharing: mostly objections, some withdrawn, a few overridden."""
    age = age_on(child.dob, day)
    if age >= 16:
        holder = "YOUNG_PERSON"
    elif age >= 8 and ctx.chance(0.6):
        holder = "CHILD"
    elif looked_after and ctx.chance(0.3):
        holder = "OTHER_WITH_PR"
    else:
        holder = "PARENT_CARER"
    competence = "NOT_ASSESSED"
    if holder == "CHILD":
        competence = "GILLICK_COMPETENT" if age >= 12 and ctx.chance(0.6) else "NOT_COMPETENT"
    start = ctx.at(day)
    decision = "OBJECT" if ctx.chance(0.7) else "ALLOW"
    until = start + timedelta(days=365) if ctx.chance(0.4) else None
    withdrawn = None
    if ctx.chance(0.12):
        withdrawn = start + timedelta(days=between(ctx.rng, 1, 300))
        withdrawn = withdrawn if withdrawn.date() <= ctx.end else None
    key = ctx.next_id("SHPR")
    if ctx.corrupt():  # a withdrawal dated before the preference itself
        withdrawn = start - timedelta(days=between(ctx.rng, 1, 30))
        ctx.record_bad("ssd_sharing_preferences", key, "consent.withdrawn_at")
    override: dict[str, Any] = {
        "shpr_override_reason": None,
        "shpr_override_legal_reference": None,
        "shpr_override_by_role": None,
        "shpr_override_at": None,
    }
    if decision == "OBJECT" and ctx.chance(0.04):
        reason = "SIGNIFICANT_HARM" if ctx.chance(0.7) else "LEGAL_DUTY"
        override = {
            "shpr_override_reason": reason,
            "shpr_override_legal_reference": "CA1989_S47"
            if reason == "SIGNIFICANT_HARM"
            else f"COURT_ORDER_ZZ{between(ctx.rng, 1000, 9999)}",
            "shpr_override_by_role": pick(ctx.rng, ("team_manager", "caldicott_guardian")),
            "shpr_override_at": min(start + timedelta(days=between(ctx.rng, 1, 60)), ctx.ceiling),
        }
    opt_out = "Y" if ctx.chance(0.03) else ("N" if ctx.chance(0.2) else None)
    stamps = [start, withdrawn or start, override["shpr_override_at"] or start]
    ctx.add(
        "ssd_sharing_preferences",
        {
            "shpr_preference_id": key,
            "shpr_person_id": child.person_id,
            "shpr_expressed_by": holder,
            "shpr_competence_assessed": competence,
            "shpr_purpose": sc_codes.PREFERENCE_PURPOSES.pick(ctx.rng) or None,
            "shpr_recipient": None,
            "shpr_data_category": sc_codes.PREFERENCE_CATEGORIES.pick(ctx.rng) or None,
            "shpr_decision": decision,
            "shpr_effective_from": start,
            "shpr_effective_to": until,
            "shpr_withdrawn_at": withdrawn,
            **override,
            "shpr_national_data_opt_out": opt_out,
            "last_updated": ctx.updated(max(s for s in stamps if isinstance(s, datetime))),
        },
    )
