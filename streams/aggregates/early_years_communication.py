"""Early years communication (Oldham and Rochdale, Practices 1 and 2).

Rochdale found that the good level of development at age 5 misses the views of
seldom-heard families. This aggregate puts what families themselves reported at
the 2-2 1/2 year health visitor review beside the statutory measures, for the
same children:

- ``reviews``: 2-2 1/2 year reviews per year and area: communication below the
  ASQ-3 cut-off, concerns raised by the parent and by the practitioner, onward
  referrals (speech and language therapy, any), the communication items the
  parent reported (talking, being understood, hearing), and families who added
  their own comment to the review. Cells may carry a few parents' comments,
  shared with consent to strategic use and to quotes (redacted by the policy).
- ``outcomes_by_area``, ``outcomes_by_fsm``, ``outcomes_by_sen``: children with
  an EYFSP result per academic year, by area, by free school meals eligibility
  (ever recorded eligible) and by SEN provision (latest), split by what the
  2-year review found (communication below the cut-off, not below, or no review
  shared): children at the expected level in both communication and language
  goals (ELG01, ELG02), with a good level of development, and whose parent had
  reported a talking or understanding concern at 2.

Each child is one member, counted at their latest review and latest EYFSP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.aggregates import common
from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Rate, Table

TALKING = {"TALKING", "UNDERSTOOD"}
BELOW, NOT_BELOW, NO_REVIEW = "BELOW", "NOT_BELOW", "NO_REVIEW"
CL_GOALS = ("ELG01", "ELG02")


def _share(name: str, comp: str, unit: str, of: str) -> tuple[Count, Rate]:
    return Count(name, comp, unit=unit), Rate(f"{name}_rate", name, of)


REVIEWS = Table(
    name="reviews",
    dims=("year", "area"),
    margins=("area",),
    statements=True,
    measures=(
        Count("children_reviewed", "n", unit="children reviewed at 2-2 1/2"),
        *_share("communication_below_cutoff", "below", "children", "children_reviewed"),
        *_share("concern_raised_by_parent", "by_parent", "children", "children_reviewed"),
        *_share("concern_raised_by_practitioner", "by_prac", "children", "children_reviewed"),
        Count("referred_speech_language", "salt", "children", within="referred_onward"),
        *_share("referred_onward", "referred", "children", "children_reviewed"),
        *_share("parent_reported_talking", "talking", "children", "children_reviewed"),
        Count("parent_reported_hearing", "hearing", "children", within="children_reviewed"),
        *_share("family_comment_recorded", "comment", "children", "children_reviewed"),
    ),
)


def _outcomes(by: str) -> Table:
    return Table(
        name=f"outcomes_by_{by}",
        dims=("academic_year", by, "communication_at_2"),
        margins=(by, "communication_at_2"),
        measures=(
            Count("children", "n", unit="children with an EYFSP result"),
            *_share("communication_language_expected", "cl", "children", "children"),
            *_share("good_level_of_development", "gld", "children", "children"),
            *_share("parent_reported_talking_at_2", "talking", "children", "children"),
        ),
    )


OUTCOMES = {by: _outcomes(by) for by in ("area", "fsm", "sen")}


def fact(name: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    if name == common.PERSON:
        return common.person_fact(record)
    if name == "development_review_completed":
        m = common.month(record.get("review_date"))
        if not m:
            return None
        concerns = set(record.get("parent_concerns") or [])
        return {
            "m": m,
            "below": (record.get("communication") or {}).get("zone") == "BELOW",
            "by": record.get("concern_raised_by"),
            "talking": bool(concerns & TALKING),
            "hearing": "HEARING" in concerns,
            "ref": record.get("onward_referral"),
        }
    if name == "eyfsp_assessed":
        outcomes = {o["elg"]: o["outcome"] for o in record.get("elg_outcomes") or []}
        return {
            "y": record.get("academic_year"),
            "cl": all(outcomes.get(g) == "EXPECTED" for g in CL_GOALS),
            "gld": bool(record.get("gld")),
        }
    if name == "fsm_eligibility_changed":
        return {"ok": bool(record.get("eligible"))}
    if name == "sen_status_changed":
        return {"m": common.month(record.get("effective_date")), "p": record.get("sen_provision")}
    if name == "parent_comment_recorded":  # the family's own comment at the review
        if record.get("author_role") != "PARENT_CARER":
            return None
        return {
            "m": common.month(record["share"]["event_time"]),
            "text": common.quotable(record),
            "role": record.get("author_role"),
        }
    return None


def _sen(facts: Facts) -> str:
    found = common.of(facts, "sen_status_changed")
    if not found:
        return common.UNKNOWN
    latest = max(found, key=lambda kf: (kf[1].get("m") or "", kf[1].get("t", 0)))[1]
    return {"E": "EHCP", "K": "SEN_SUPPORT", "N": "NO_SEN"}.get(latest.get("p"), common.UNKNOWN)


def _fsm(facts: Facts) -> str:
    found = common.of(facts, "fsm_eligibility_changed")
    if not found:
        return common.UNKNOWN
    return "FSM" if any(f["ok"] for _, f in found) else "NOT_FSM"


def cells(facts: Facts) -> Iterable[Contribution]:
    area = common.person(facts)["area"]
    reviews = common.of(facts, "development_review_completed")
    review = reviews[-1][1] if reviews else None
    if review:
        comments = [
            (k, f)
            for k, f in common.of(facts, "parent_comment_recorded")
            if common.near(f["m"], review["m"])
        ]
        quotes = [common.statement(k, f["text"], f["role"]) for k, f in comments if f["text"]]
        by = review["by"]
        values = {
            "n": 1,
            "below": int(review["below"]),
            "by_parent": int(by in ("PARENT", "BOTH")),
            "by_prac": int(by in ("PRACTITIONER", "BOTH")),
            "salt": int(review["ref"] == "SALT"),
            "referred": int(review["ref"] is not None),
            "talking": int(review["talking"]),
            "hearing": int(review["hearing"]),
            "comment": int(bool(comments)),
            "_s": quotes,
        }
        yield REVIEWS.name, (common.year(review["m"]), area), None, values
    results = common.of(facts, "eyfsp_assessed")
    if not results:
        return
    result = max(results, key=lambda kf: (kf[1].get("y") or "", kf[1].get("t", 0)))[1]
    at_2 = NO_REVIEW if review is None else (BELOW if review["below"] else NOT_BELOW)
    values = {
        "n": 1,
        "cl": int(result["cl"]),
        "gld": int(result["gld"]),
        "talking": int(bool(review and review["talking"])),
    }
    groups = {"area": area, "fsm": _fsm(facts), "sen": _sen(facts)}
    for by, table in OUTCOMES.items():
        yield table.name, (result["y"], groups[by], at_2), None, values


SPEC = AggregateSpec(
    name="early_years_communication",
    events=(
        "development_review_completed",
        "eyfsp_assessed",
        "fsm_eligibility_changed",
        "sen_status_changed",
        "parent_comment_recorded",
        common.PERSON,
    ),
    tables=(REVIEWS, *OUTCOMES.values()),
    fact=fact,
    cells=cells,
    doc="2-2 1/2 year reviews (ASQ-3 communication, parent and practitioner concerns, "
    "referrals, what families reported) and the same children's EYFSP communication and GLD "
    "by area, FSM and SEN.",
)
