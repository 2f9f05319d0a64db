"""Early help and the parent/carer Voice Note (Hampshire, Practice 7).

The Voice Note is recorded soon after an early help referral so the family's
view is heard before the multi-agency hub meeting; the aim is fewer
re-referrals and escalations to social care. Each early help episode is one
member (a referral to early help that was taken up).

- ``referrals``: episodes started per month and area, and how many had a
  parent/carer Voice Note recorded before the hub meeting (by month: a note in
  the hub meeting's month or earlier counts as before it).
- ``outcomes``: episodes ended per half-year and area, split by whether any
  Voice Note was recorded for the episode: how many were followed by another
  early help episode within 12 months of ending (re-referral), and how many were
  escalated to children's social care (the episode ended as a step-up, or a
  social care referral was made during it or within 12 months of its end). An
  episode that ended less than 12 months ago may still be re-referred: recent
  periods are not final.

Events of one child are linked by the strategic reporting person pseudonym. A
Voice Note belongs to the child's episode that started latest on or before the
month after the note (a note is often recorded before the episode is opened),
and not after that episode ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.aggregates import common
from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Rate, Table

WINDOW_MONTHS = 12
RECORDED, NOT_RECORDED = "RECORDED", "NOT_RECORDED"

REFERRALS = Table(
    name="referrals",
    dims=("month", "area"),
    margins=("area",),
    measures=(
        Count("episodes_started", "n", unit="early help episodes"),
        Count("voice_note_before_hub", "vn_hub", unit="episodes"),
        Rate("voice_note_before_hub_rate", "voice_note_before_hub", "episodes_started"),
    ),
)

OUTCOMES = Table(
    name="outcomes",
    dims=("period", "area", "voice_note"),
    margins=("area", "voice_note"),
    measures=(
        Count("episodes_ended", "n", unit="early help episodes"),
        Count("re_referred_12m", "rereferred", unit="episodes"),
        Rate("re_referral_rate", "re_referred_12m", "episodes_ended"),
        Count("escalated_to_social_care", "escalated", unit="episodes"),
        Rate("escalation_rate", "escalated_to_social_care", "episodes_ended"),
    ),
)


def fact(name: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    if name == common.PERSON:
        return common.person_fact(record)
    if name in ("early_help_episode_started", "early_help_episode_ended"):
        start = common.month(record.get("start_date"))
        if not start:
            return None
        out: dict[str, Any] = {"s": start}
        if name == "early_help_episode_ended":
            out.update(end=common.month(record.get("end_date")), why=record.get("end_reason"))
        return out
    if name == "voice_note_recorded":
        m = common.month(record.get("recorded_at"))
        if not m:
            return None
        return {
            "m": m,
            "hub": common.month(record.get("hub_meeting_date")),
            "parent": record.get("author_role") == "PARENT_CARER",
        }
    if name == "referral":
        m = common.month(record.get("referral_date"))
        return {"m": m} if m else None
    return None


def episodes(facts: Facts) -> dict[str, dict[str, Any]]:
    """record key -> episode (start, end, end reason), merged from its started and ended events."""
    out: dict[str, dict[str, Any]] = {}
    for key, f in common.of(facts, "early_help_episode_started", "early_help_episode_ended"):
        ep = out.setdefault(key, {"s": f["s"], "end": None, "why": None, "notes": []})
        if f["e"] == "early_help_episode_ended":
            ep.update(s=f["s"], end=f.get("end"), why=f.get("why"))
    for _, note in common.of(facts, "voice_note_recorded"):
        owner = _episode_of(out, note["m"])
        if owner is not None:
            out[owner]["notes"].append(note)
    return out


def _episode_of(eps: Mapping[str, Mapping[str, Any]], note_month: str) -> str | None:
    n = common.month_index(note_month)
    best: tuple[int, str] | None = None
    for key, ep in eps.items():
        s, e = common.month_index(ep["s"]), common.month_index(ep["end"])
        if s is None or s > n + 1 or (e is not None and n > e):
            continue
        if best is None or (s, key) > best:
            best = (s, key)
    return best[1] if best else None


def cells(facts: Facts) -> Iterable[Contribution]:
    area = common.person(facts)["area"]
    eps = episodes(facts)
    referrals = [common.month_index(f["m"]) for _, f in common.of(facts, "referral")]
    for key, ep in sorted(eps.items()):
        before_hub = any(n["parent"] and n["hub"] and n["m"] <= n["hub"] for n in ep["notes"])
        yield REFERRALS.name, (ep["s"], area), key, {"n": 1, "vn_hub": int(before_hub)}
        if not ep["end"]:
            continue
        s, e = common.month_index(ep["s"]), common.month_index(ep["end"])
        again = any(
            other is not ep
            and e <= common.month_index(other["s"]) <= e + WINDOW_MONTHS
            and common.month_index(other["s"]) > s
            for other in eps.values()
        )
        escalated = ep["why"] == "STEP_UP_CSC" or any(
            r is not None and s <= r <= e + WINDOW_MONTHS for r in referrals
        )
        note = RECORDED if ep["notes"] else NOT_RECORDED
        values = {"n": 1, "rereferred": int(again), "escalated": int(escalated)}
        yield OUTCOMES.name, (common.half_year(ep["end"]), area, note), key, values


SPEC = AggregateSpec(
    name="early_help_voice",
    events=(
        "early_help_episode_started",
        "early_help_episode_ended",
        "voice_note_recorded",
        "referral",
        common.PERSON,
    ),
    tables=(REFERRALS, OUTCOMES),
    fact=fact,
    cells=cells,
    doc="Early help referrals by month and area with the share that had a parent/carer Voice "
    "Note before the hub meeting; re-referral and escalation split by Voice Note or not.",
)
