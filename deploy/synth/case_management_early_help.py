"""Early help beyond the episode rows: whole families (ssd_family), the Supporting
Families needs identified, outcomes evidenced and sustained (ssd_early_help_outcomes),
re-referrals within 12 months, step-ups to children's social care, and the parent's
Voice Note after the referral (form answers).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from deploy.synth import case_management_codes as sc_codes
from deploy.synth import codes
from deploy.synth.case_management_base import Child, Context, between
from deploy.synth.case_management_voice import voice_note

_RE_REFERRAL_RATE = 0.15  # of ended episodes, another episode within 12 months
_VOICE_NOTE_RATE = 0.55
_SIBLING_RATE = 0.3  # an early-help child joins the previous early-help child's family


def re_referrals(ctx: Context, child: Child, episodes: list[dict[str, Any]]) -> None:
    """Some families come back within a year of an episode closing: a new episode row."""
    for ep in list(episodes):
        ended = ep["earl_episode_end_date"]
        if ended is None or not ctx.chance(_RE_REFERRAL_RATE):
            continue
        started = ended + timedelta(days=between(ctx.rng, 30, 365))
        if started > ctx.end:
            continue
        episodes.append(
            {
                "earl_episode_id": ctx.next_id("EHR"),
                "earl_person_id": child.person_id,
                "earl_episode_start_date": started,
                "earl_episode_end_date": None,
                "earl_episode_reason": codes.EARLY_HELP_REASONS.pick(ctx.rng),
                "earl_episode_end_reason": None,
                "earl_episode_organisation": ep["earl_episode_organisation"],
                "earl_episode_worker_id": ep["earl_episode_worker_id"],
                "last_updated": ctx.updated(started, max_lag_days=14),
            }
        )


def step_ups(episodes: list[dict[str, Any]]) -> list[date]:
    """When episodes stepped up to social care: a contact and referral (source 5D) follow."""
    return [
        e["earl_episode_end_date"]
        for e in episodes
        if e["earl_episode_end_reason"] == "STEP_UP_CSC" and e["earl_episode_end_date"]
    ]


class Families:
    """Family ids for children in early help, siblings sharing one now and then."""

    def __init__(self) -> None:
        self.last: str | None = None

    def family(self, ctx: Context, child: Child) -> str:
        if self.last is not None and ctx.chance(_SIBLING_RATE):
            family = self.last
        else:
            family = self.last = ctx.next_id("FAM")
        ctx.add(
            "ssd_family",
            {
                "fami_table_id": ctx.next_int("fami"),
                "fami_family_id": family,
                "fami_person_id": child.person_id,
                "last_updated": ctx.updated(ctx.start, max_lag_days=700),
            },
        )
        return family


def _needs(ctx: Context, reason: str) -> list[str]:
    first = sc_codes.EARLY_HELP_REASON_HEADLINES.get(reason, "FAMILY_RELATIONSHIPS")
    found = [first]
    wanted = ctx.rng.choice((1, 2, 3, 3, 4, 4, 5))
    for _ in range(wanted * 2):
        if len(found) >= wanted:
            break
        h = sc_codes.SUPPORTING_FAMILIES_HEADLINES.pick(ctx.rng)
        if h not in found:
            found.append(h)
    return found


def complete(ctx: Context, child: Child, family: str, episodes: list[dict[str, Any]]) -> None:
    """Needs, outcomes and Voice Notes of a child's episodes (rows already made)."""
    for ep in episodes:
        needs = _needs(ctx, ep["earl_episode_reason"])
        ep["earl_family_needs_json"] = json.dumps(needs)
        if ep["earl_episode_end_date"] is not None and ctx.corrupt():
            ep["earl_episode_end_reason"] = "Closed - see case notes"  # a local wording
            ctx.record_bad(
                "ssd_early_help_episodes", ep["earl_episode_id"], "early_help_end_reason.code_list"
            )
        if ctx.chance(_VOICE_NOTE_RATE):
            voice_note(ctx, child, ep["earl_episode_id"], ep["earl_episode_start_date"])
        if ep["earl_episode_end_reason"] == "OUTCOMES_MET":
            _outcomes(ctx, child, family, ep, needs)


def _outcomes(ctx: Context, child: Child, family: str, ep: dict, needs: list[str]) -> None:
    ended: date = ep["earl_episode_end_date"]
    for headline in needs[:3]:
        achieved = max(
            ep["earl_episode_start_date"], ended - timedelta(days=between(ctx.rng, 0, 60))
        )
        sustained = min(achieved + timedelta(days=between(ctx.rng, 183, 300)), ctx.end)
        key = ctx.next_id("EHOU")
        if ctx.corrupt():  # confirmed "sustained until" before it was achieved
            sustained = achieved - timedelta(days=between(ctx.rng, 1, 90))
            ctx.record_bad("ssd_early_help_outcomes", key, "dates.order")
        ctx.add(
            "ssd_early_help_outcomes",
            {
                "ehou_outcome_id": key,
                "ehou_family_id": family,
                "ehou_person_id": child.person_id,
                "ehou_episode_id": ep["earl_episode_id"],
                "ehou_headline": headline,
                "ehou_sub_outcome": f"{headline[:4]}_{between(ctx.rng, 1, 6)}",
                "ehou_evidence_source": sc_codes.EVIDENCE_SOURCES.pick(ctx.rng),
                "ehou_achieved_date": achieved,
                "ehou_sustained_until": sustained,
                "last_updated": ctx.updated(max(achieved, sustained), max_lag_days=14),
            },
        )
