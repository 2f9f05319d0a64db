"""Participation in reviews, and whose voice is missing (Practices 5 and 6).

- ``reviews``: looked-after children's reviews and child protection reviews held
  per half-year and age band, with their PN participation codes (SSDA903
  REVIEW_CODE): how many children took part (PN1-PN6), spoke for themselves
  (PN1) or were absent without conveying a view (PN7); PN0 (under 4) is left out
  of the rates' denominator.
- ``missing_voice``: the moments a child's or family's view should be sought
  (a CIN assessment, a CP or CLA review, a pathway plan review, the start of an
  early help episode, the 2-2 1/2 year health review) per half-year, service
  and age band, and how many have no voice recorded for strategic reporting:
  no participation code showing the child's view, no young person's rating,
  no statement by the child (or, for early help and health visiting, the family)
  in the same context within a month, no Voice Note, no parent comment or
  concern. A view shared without consent to strategic use does not reach this
  aggregate, so it counts as missing here: the count is of voices the LA can
  see in its reports.

Each child is one member; a child with several reviews adds them up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.aggregates import common
from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Rate, Table

PN_CODES = tuple(f"PN{i}" for i in range(8))
TOOK_PART = {f"PN{i}" for i in range(1, 7)}
CHILD_ROLES = {"CHILD", "YOUNG_PERSON", "ADVOCATE"}
FAMILY_ROLES = CHILD_ROLES | {"PARENT_CARER"}

REVIEWS = Table(
    name="reviews",
    dims=("period", "review_type", "age_band"),
    margins=("review_type", "age_band"),
    headline="reviews",
    sums=(
        ("reviews", ("reviews_aged_4_plus", "participation_PN0", "participation_not_recorded")),
        ("took_part", tuple(f"participation_PN{i}" for i in range(1, 7))),
    ),
    measures=(
        Count("reviews", "n", unit="reviews held"),
        *(Count(f"participation_{c}", c, "reviews", "reviews") for c in PN_CODES),
        Count("participation_not_recorded", "none", "reviews", "reviews"),
        Count("reviews_aged_4_plus", "n4", unit="reviews"),
        Count("took_part", "took_part", unit="reviews"),
        Rate("took_part_rate", "took_part", "reviews_aged_4_plus"),
        Rate("spoke_for_themselves_rate", "participation_PN1", "reviews_aged_4_plus"),
        Rate("absent_no_view_rate", "participation_PN7", "reviews_aged_4_plus"),
    ),
)

MISSING = Table(
    name="missing_voice",
    dims=("period", "service", "age_band"),
    margins=("service", "age_band"),
    headline="events",
    sums=(("events", ("with_voice", "without_voice")),),
    measures=(
        Count("events", "n", unit="moments a view should be sought"),
        Count("with_voice", "voice", unit="events"),
        Count("without_voice", "silent", unit="events"),
        Rate("without_voice_rate", "without_voice", "events"),
    ),
)

# event name -> (service, the statement context that records a view there, date field)
SERVICES = {
    "assessment": ("CIN_ASSESSMENT", "ASSESSMENT", "start_date"),
    "cp_plan_reviewed": ("CHILD_PROTECTION", "CP_CONFERENCE", "review_date"),
    "cla_review": ("LOOKED_AFTER", "CLA_REVIEW", "review_date"),
    "pathway_plan_reviewed": ("CARE_LEAVERS", "PATHWAY_PLAN", "review_date"),
    "early_help_episode_started": ("EARLY_HELP", "EH_REVIEW", "start_date"),
    "development_review_completed": ("HEALTH_VISITING", "HV_REVIEW", "review_date"),
}
FAMILY_SERVICES = {"EARLY_HELP", "HEALTH_VISITING"}


def fact(name: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    if name == common.PERSON:
        return common.person_fact(record)
    if name in SERVICES:
        m = common.month(record.get(SERVICES[name][2]))
        if not m or record.get("cancelled"):
            return None
        out: dict[str, Any] = {"m": m}
        if name in ("cla_review", "cp_plan_reviewed"):
            out["pn"] = record.get("participation")
        elif name == "pathway_plan_reviewed":
            out["own"] = any(
                d.get("young_person_rating") is not None for d in record.get("domains") or []
            )
        elif name == "development_review_completed":
            out["own"] = record.get("concern_raised_by") in ("PARENT", "BOTH")
        return out
    if name == "statement_recorded":
        return {
            "m": common.month(record.get("expressed_at")),
            "ctx": record.get("context"),
            "role": record.get("author_role"),
        }
    if name in ("voice_note_recorded", "parent_comment_recorded"):
        when = record.get("recorded_at") if name == "voice_note_recorded" else None
        return {"m": common.month(when or record["share"]["event_time"])}
    return None


def cells(facts: Facts) -> Iterable[Contribution]:
    dob = common.person(facts)["dob"]
    statements = [f for _, f in common.of(facts, "statement_recorded")]
    family = [f for _, f in common.of(facts, "voice_note_recorded", "parent_comment_recorded")]
    for _, f in common.of(facts, *SERVICES):
        service, context, _ = SERVICES[f["e"]]
        band = common.age_band(common.age_years(dob, f["m"]))
        period = common.half_year(f["m"])
        if f["e"] in ("cla_review", "cp_plan_reviewed"):
            yield REVIEWS.name, (period, _review_type(f["e"]), band), None, _pn_values(f["pn"])
        roles = FAMILY_ROLES if service in FAMILY_SERVICES else CHILD_ROLES
        heard = (
            f.get("pn") in TOOK_PART
            or bool(f.get("own"))
            or any(
                s["ctx"] == context and s["role"] in roles and common.near(s["m"], f["m"])
                for s in statements
            )
            or (service in FAMILY_SERVICES and any(common.near(v["m"], f["m"]) for v in family))
        )
        values = {"n": 1, "voice": int(heard), "silent": int(not heard)}
        yield MISSING.name, (period, service, band), None, values


def _review_type(name: str) -> str:
    return "CLA_REVIEW" if name == "cla_review" else "CP_REVIEW"


def _pn_values(pn: str | None) -> dict[str, int]:
    values = {"n": 1, "none" if pn is None else pn: 1}
    if pn is not None and pn != "PN0":
        values["n4"] = 1
        values["took_part"] = int(pn in TOOK_PART)
    return values


SPEC = AggregateSpec(
    name="participation",
    events=(
        "cla_review",
        "cp_plan_reviewed",
        "assessment",
        "pathway_plan_reviewed",
        "early_help_episode_started",
        "development_review_completed",
        "statement_recorded",
        "voice_note_recorded",
        "parent_comment_recorded",
        common.PERSON,
    ),
    tables=(REVIEWS, MISSING),
    fact=fact,
    cells=cells,
    doc="How children took part in their own reviews (PN codes), and the moments where no "
    "child's or family's voice was recorded, by service and age band.",
)
