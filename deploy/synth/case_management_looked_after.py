"""Children looked after and care leavers: periods of care as SSDA903 episodes with their
placements and legal statuses, statutory reviews with PN participation, missing
episodes, and care leavers aged 17-21 with their latest contact and six-monthly
pathway plan reviews (ssd_cla_episodes, ssd_cla_placement, ssd_legal_status,
ssd_cla_reviews, ssd_missing, ssd_care_leavers, ssd_pathway_plan_reviews,
ssd_pathway_plan_domains).

A new episode starts whenever the placement or the legal status changes (RNE P,
T, L, B or U), the previous one ceasing X1 the same day; a placement carries over
a change of legal status only. Reviews fall 20 days after the period starts, three
months later, then every six months.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from deploy.synth import case_management_codes as sc_codes
from deploy.synth import codes
from deploy.synth.case_management_base import (
    Child,
    Context,
    age_on,
    between,
    clamp,
    pick,
    poisson,
    years_before,
)
from deploy.synth.case_management_voice import (
    cla_review_views,
    pathway_views,
    sharing_preference,
)
from schemas.codesets import load as load_codeset

_PERIOD_ENDS_RATE = 0.35
_MISSING_RATE = 0.15  # of looked-after children aged 8 or over, over the two years
_CANCELLED_RATE = 0.02
_PLACEMENTS = load_codeset("placement_type")
_LEAVER_PREFERENCE_RATE = 0.04


def _postcode(ctx: Context) -> str:
    if ctx.chance(0.7):
        district = pick(ctx.rng, codes.POSTCODE_DISTRICTS)
    else:  # out of the area; ZZ is not a real postcode area
        district = f"ZZ{between(ctx.rng, 1, 99)}"
    letters = codes.POSTCODE_INWARD_LETTERS
    return f"{district} {between(ctx.rng, 0, 9)}{pick(ctx.rng, letters)}{pick(ctx.rng, letters)}"


def _placement_type(ctx: Context, child: Child, day: date) -> str:
    for _ in range(10):
        code = sc_codes.PLACEMENT_TYPES.pick(ctx.rng)
        if code in sc_codes.PLACEMENTS_FROM_16 and age_on(child.dob, day) < 16:
            continue
        if _PLACEMENTS.is_valid(code, day):
            return code
    return "U4"


def _placement(
    ctx: Context, child: Child, cla_id: str, day: date, ends: date | None, change: str | None
) -> str:
    key = ctx.next_id("CLAP")
    kind = _placement_type(ctx, child, day)
    providers = sc_codes.PLACEMENT_PROVIDERS.get(kind[0])
    provider = None if providers is None or kind.startswith("Z") else providers.pick(ctx.rng)
    end_on = ends
    if ends is not None and ctx.corrupt():  # the end date typed before the start
        end_on = day - timedelta(days=between(ctx.rng, 1, 90))
        ctx.record_bad("ssd_cla_placement", key, "dates.order")
    ctx.add(
        "ssd_cla_placement",
        {
            "clap_cla_placement_id": key,
            "clap_cla_id": cla_id,
            "clap_person_id": child.person_id,
            "clap_cla_placement_start_date": day,
            "clap_cla_placement_type": kind,
            "clap_cla_placement_urn": (
                f"SC{between(ctx.rng, 100000, 999999)}" if kind[0] in "KRS" else None
            ),
            "clap_cla_placement_distance": round(
                min(250.0, max(0.1, math.exp(ctx.rng.gauss(1.6, 1.0)))), 1
            ),
            "clap_cla_placement_provider": provider,
            "clap_cla_placement_postcode": _postcode(ctx),
            "clap_cla_placement_end_date": end_on,
            "clap_cla_placement_change_reason": (
                None if ends is None else change or sc_codes.REASONS_PLACE_CHANGE.pick(ctx.rng)
            ),
            "last_updated": ctx.updated(ends or day),
        },
    )
    return key


def period_of_care(
    ctx: Context,
    child: Child,
    begin: date,
    *,
    referral_id: str | None = None,
    ends: date | None = None,
    end_reason: str | None = None,
) -> tuple[date | None, bool]:
    """One period of care from ``begin``; returns when it ended (None: still looked after),
    and whether the child went missing during it."""
    cla_id = ctx.next_id("CLA")
    if ends is None and ctx.chance(_PERIOD_ENDS_RATE):
        candidate = begin + timedelta(days=between(ctx.rng, 60, 900))
        if candidate <= ctx.end:
            ends, end_reason = candidate, sc_codes.REASONS_CEASED.pick(ctx.rng)
    # change points: (day, RNE)
    changes: list[tuple[date, str]] = [(begin, "S")]
    day = begin
    legal = sc_codes.LEGAL_STATUSES_AT_START.pick(ctx.rng)
    while True:
        day = day + timedelta(days=between(ctx.rng, 45, 500))
        if day > (ends or ctx.end) or day == ends:
            break
        r = ctx.rng.random()
        rne = "P" if r < 0.55 else "L" if r < 0.85 else "T" if r < 0.95 else "B"
        changes.append((day, rne))
    need = sc_codes.CLA_NEEDS.pick(ctx.rng)
    placement, legal_start = None, begin
    for i, (start, rne) in enumerate(changes):
        finish = changes[i + 1][0] if i + 1 < len(changes) else ends
        if rne in ("L", "B") and legal in sc_codes.LEGAL_STATUS_NEXT:
            _legal(ctx, child, legal, legal_start, start)
            legal, legal_start = sc_codes.LEGAL_STATUS_NEXT[legal], start
        if rne != "L" or placement is None:
            placement_end = next((d for d, r in changes[i + 1 :] if r != "L"), ends)
            placement = _placement(ctx, child, cla_id, start, placement_end, None)
        key = ctx.next_id("CLAE")
        rne_code = rne
        if ctx.corrupt():  # a local code the extract did not translate
            rne_code = "X"
            ctx.record_bad("ssd_cla_episodes", key, "rne.code_list")
        ctx.add(
            "ssd_cla_episodes",
            {
                "clae_cla_episode_id": key,
                "clae_person_id": child.person_id,
                "clae_cla_placement_id": placement,
                "clae_cla_episode_start_date": start,
                "clae_cla_episode_start_reason": rne_code,
                "clae_cla_primary_need_code": need,
                "clae_cla_episode_ceased_date": finish,
                "clae_cla_episode_ceased_reason": (
                    None if finish is None else "X1" if finish != ends else end_reason
                ),
                "clae_cla_id": cla_id,
                "clae_referral_id": referral_id,
                "clae_entered_care_date": begin,
                "last_updated": ctx.updated(finish or start),
            },
        )
    _legal(ctx, child, legal, legal_start, ends)
    _reviews(ctx, child, cla_id, begin, ends)
    in_window = ends is None or ends >= ctx.start
    went_missing = (
        in_window and age_on(child.dob, max(begin, ctx.start)) >= 8 and ctx.chance(_MISSING_RATE)
    )
    if went_missing:
        _missing(ctx, child, max(begin, ctx.start), ends or ctx.end)
    return ends, went_missing


def _legal(ctx: Context, child: Child, status: str, start: date, end: date | None) -> None:
    ctx.add(
        "ssd_legal_status",
        {
            "lega_legal_status_id": ctx.next_id("LEGA"),
            "lega_person_id": child.person_id,
            "lega_legal_status": status,
            "lega_legal_status_start_date": start,
            "lega_legal_status_end_date": end,
            "last_updated": ctx.updated(end or start),
        },
    )


def _reviews(ctx: Context, child: Child, cla_id: str, begin: date, ends: date | None) -> None:
    due, gap = begin + timedelta(days=20), 91
    while due <= (ends or ctx.end + timedelta(days=60)):
        key = ctx.next_id("CLAR")
        held: date | None = due + timedelta(days=between(ctx.rng, -7, 3 if ctx.chance(0.9) else 30))
        cancelled = ctx.chance(_CANCELLED_RATE)
        if held > ctx.end or cancelled:
            held = None  # still to come (or called off)
        participation = None
        if held is not None:
            age = age_on(child.dob, held)
            participation = "PN0" if age < 4 else sc_codes.PARTICIPATION.pick(ctx.rng)
            if ctx.corrupt():  # a local participation code outside PN0-PN7
                participation = "PN9"
                ctx.record_bad("ssd_cla_reviews", key, "pn_participation.code_list")
            elif age >= 4 and participation != "PN7" and ctx.chance(0.5):
                cla_review_views(ctx, child, key, held)
        ctx.add(
            "ssd_cla_reviews",
            {
                "clar_cla_review_id": key,
                "clar_cla_id": cla_id,
                "clar_cla_review_due_date": due,
                "clar_cla_review_date": held,
                "clar_cla_review_cancelled": "Y" if cancelled else "N",
                "clar_cla_review_participation": participation,
                "last_updated": ctx.updated(min(held or due, ctx.end)),
            },
        )
        if held is None and not cancelled:
            break
        due, gap = due + timedelta(days=gap), 182


def _missing(ctx: Context, child: Child, lo: date, hi: date) -> None:
    for _ in range(1 + poisson(ctx.rng, 1.5)):
        went = datetime.combine(ctx.day(lo, hi), time(between(ctx.rng, 15, 23), 0))
        back: datetime | None = went + timedelta(hours=between(ctx.rng, 2, 72))
        if back > ctx.ceiling:
            back = None  # still missing at the end of the window
        key = ctx.next_id("MISS")
        if back is not None and ctx.corrupt():  # return time typed before the start
            back = went - timedelta(hours=between(ctx.rng, 1, 48))
            ctx.record_bad("ssd_missing", key, "dates.order")
        offered = "Y" if ctx.chance(0.85) else ("N" if ctx.chance(0.7) else "NA")
        accepted = ("Y" if ctx.chance(0.6) else "N") if offered == "Y" else offered
        ctx.add(
            "ssd_missing",
            {
                "miss_table_id": key,
                "miss_person_id": child.person_id,
                "miss_missing_episode_start_date": went,
                "miss_missing_episode_type": "M" if ctx.chance(0.75) else "A",
                "miss_missing_episode_end_date": back,
                "miss_missing_rhi_offered": offered if back else None,
                "miss_missing_rhi_accepted": accepted if back else None,
                "last_updated": ctx.updated(max(went, back or went)),
            },
        )


# --------------------------------------------------------------------------- care leavers


def care_leaver(ctx: Context, child: Child) -> None:
    """A young person aged 17-21 who left care: their period of care, latest contact and
    six-monthly pathway plan reviews rated by them and by their personal adviser."""
    eighteen = years_before(child.dob, -18)
    age = age_on(child.dob, ctx.end)
    left = eighteen if eighteen <= ctx.end else years_before(child.dob, -17) - timedelta(days=30)
    began = years_before(child.dob, -between(ctx.rng, 11, 16))
    reason = sc_codes.REASONS_CEASED_AT_18.pick(ctx.rng)
    if left < began + timedelta(days=180):
        began = left - timedelta(days=400)
    period_of_care(ctx, child, began, ends=left, end_reason=reason)
    adviser = f"PA{between(ctx.rng, 1, 40):04d}"
    in_touch = sc_codes.CARE_LEAVER_IN_TOUCH.pick(ctx.rng)
    contact = ctx.day(max(left, ctx.end - timedelta(days=60)), ctx.end)
    if in_touch in ("REFU", "NREQ"):
        contact = ctx.day(max(left, ctx.end - timedelta(days=300)), ctx.end)
    activity = sc_codes.CARE_LEAVER_ACTIVITY.pick(ctx.rng)
    accommodation = sc_codes.CARE_LEAVER_ACCOMMODATION.pick(ctx.rng)
    if accommodation == "Z" and age < 18:
        accommodation = "D"
    suitable = "2" if accommodation in ("S", "X") or ctx.chance(0.12) else "1"
    if in_touch == "RHOM":
        activity, accommodation, suitable = "0", None, None
    key = ctx.next_id("CLEA")
    if in_touch == "YES" and ctx.corrupt():  # an activity code outside the SSDA903 list
        activity = "F9"
        ctx.record_bad("ssd_care_leavers", key, "care_leaver_activity.code_list")
    reviews = _pathway_reviews(ctx, child, adviser, max(left, ctx.start))
    ctx.add(
        "ssd_care_leavers",
        {
            "clea_table_id": key,
            "clea_person_id": child.person_id,
            "clea_care_leaver_eligibility": "Relevant"
            if age < 18
            else ("Former Relevant" if ctx.chance(0.9) else "Qualifying"),
            "clea_care_leaver_in_touch": in_touch,
            "clea_care_leaver_latest_contact": None if in_touch == "NO" else contact,
            "clea_care_leaver_accommodation": accommodation,
            "clea_care_leaver_accom_suitable": suitable,
            "clea_care_leaver_activity": activity,
            "clea_pathway_plan_review_date": reviews[-1] if reviews else None,
            "clea_care_leaver_personal_advisor": adviser,
            "clea_care_leaver_allocated_team": "Leaving Care Team",
            "clea_care_leaver_worker_id": adviser,
            "last_updated": ctx.updated(contact, max_lag_days=5),
        },
    )
    if ctx.chance(_LEAVER_PREFERENCE_RATE):
        sharing_preference(ctx, child, ctx.day(max(left, ctx.start), ctx.end), looked_after=False)


def _pathway_reviews(ctx: Context, child: Child, adviser: str, first: date) -> list[date]:
    """Six-monthly reviews; each domain's ratings by the young person and the adviser come
    from one latent score per domain, so they agree broadly but differ."""
    latent = {d: ctx.rng.gauss(6.0, 1.8) for d in sc_codes.PATHWAY_DOMAINS}
    held = first + timedelta(days=between(ctx.rng, 0, 120))
    dates = []
    while held <= ctx.end:
        key = ctx.next_id("PPRE")
        following = held + timedelta(days=182)
        if ctx.corrupt():  # next review typed before this one
            following = held - timedelta(days=between(ctx.rng, 1, 60))
            ctx.record_bad("ssd_pathway_plan_reviews", key, "dates.order")
        stamp = ctx.updated(held, max_lag_days=10)
        ctx.add(
            "ssd_pathway_plan_reviews",
            {
                "ppre_review_id": key,
                "ppre_person_id": child.person_id,
                "ppre_review_date": held,
                "ppre_next_review_date": following,
                "ppre_personal_adviser_id": adviser,
                "last_updated": stamp,
            },
        )
        for domain in sc_codes.PATHWAY_DOMAINS:
            latent[domain] += 0.2  # plans help a little, review by review
            adviser_rating = clamp(latent[domain] + ctx.rng.gauss(-0.2, 1.0), 0, 10)
            young = clamp(latent[domain] + ctx.rng.gauss(0.3, 1.3), 0, 10)
            status = (
                "MET" if adviser_rating >= 7 else "PARTLY_MET" if adviser_rating >= 4 else "NOT_MET"
            )
            ctx.add(
                "ssd_pathway_plan_domains",
                {
                    "ppdo_table_id": ctx.next_int("ppdo"),
                    "ppdo_review_id": key,
                    "ppdo_domain": domain,
                    "ppdo_status": status,
                    "ppdo_young_person_rating": None if ctx.chance(0.05) else young,
                    "ppdo_adviser_rating": adviser_rating,
                    "last_updated": stamp,
                },
            )
        if ctx.chance(0.7):
            pathway_views(ctx, child, key, held)
        dates.append(held)
        held = held + timedelta(days=182 + between(ctx.rng, -14, 14))
    return dates
