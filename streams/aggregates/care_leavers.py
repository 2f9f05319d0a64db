"""Care leavers' own measures (North Yorkshire's care leaver dashboard, Practice 6).

At each six-monthly pathway plan review the young person and their personal
adviser each rate every domain of the plan from 0 to 10. For each review period
(half-year), area (postcode district) and domain this aggregate publishes how
many young people were reviewed, the young person's and the adviser's mean
rating and the distribution of ratings in three bands, and the gap between the
two views (young person minus adviser). ``ALL_DOMAINS`` is each young person's
average over the domains they rated. A young person counts once per period: at
their latest review in it.

Cells may carry a few of the young people's own statements: statements recorded
for the pathway plan (context PATHWAY_PLAN) by the young person in the same
period, shared with consent to strategic use and to quotes (the sharing policy
redacts them), matched to a domain by their theme or item codes; only in cells
large enough (disclosure rules).

The second table follows the statutory care leaver measures at ages 17 to 21
(SSDA903 OC3): for each young person's latest contact in the period, whether the
LA is in touch, whether they are in education, employment or training, and
whether their accommodation is suitable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.aggregates import common
from streams.aggregates.engine import AggregateSpec, Contribution, Facts
from streams.aggregates.publication import Count, Mean, Rate, Table

DOMAINS = (
    "CONTACT_SUPPORT",
    "EDUCATION_TRAINING",
    "EMPLOYMENT",
    "CONTINGENCY",
    "ACCOMMODATION",
    "RELATIONSHIPS",
    "PRACTICAL_SKILLS",
    "FINANCE",
    "HEALTH_WELLBEING",
    "IDENTITY",
)
ALL_DOMAINS = "ALL_DOMAINS"
BANDS = (("0_3", 0, 3), ("4_6", 4, 6), ("7_10", 7, 10))
THEMES = {  # theme or item codes that name a domain, besides the domain itself in lower case
    "contact": "CONTACT_SUPPORT",
    "support": "CONTACT_SUPPORT",
    "education": "EDUCATION_TRAINING",
    "training": "EDUCATION_TRAINING",
    "college": "EDUCATION_TRAINING",
    "work": "EMPLOYMENT",
    "job": "EMPLOYMENT",
    "home": "ACCOMMODATION",
    "housing": "ACCOMMODATION",
    "family": "RELATIONSHIPS",
    "family_time": "RELATIONSHIPS",
    "friends": "RELATIONSHIPS",
    "independence": "PRACTICAL_SKILLS",
    "money": "FINANCE",
    "health": "HEALTH_WELLBEING",
    "feeling_safe": "HEALTH_WELLBEING",
    "wellbeing": "HEALTH_WELLBEING",
    "identity": "IDENTITY",
    "culture": "IDENTITY",
}
EET = {"ACT_F1", "ACT_P1", "ACT_F2", "ACT_P2", "ACT_F4", "ACT_P4", "ACT_F5", "ACT_P5"}
AGE_GROUPS = ((17, 18, "17-18"), (19, 21, "19-21"))
OWN_VOICE = {"YOUNG_PERSON", "CHILD"}


def _view(prefix: str, who: str) -> tuple:
    rated = Count(f"{prefix}_rated", f"{prefix}_n", unit="young people", within="young_people")
    return (
        rated,
        Mean(f"{prefix}_mean_rating", f"{prefix}_sum", rated.name, 0, 10, unit=f"{who}, 0-10"),
        *(
            Count(f"{prefix}_rating_{label}", f"{prefix}_{label}", "young people", rated.name)
            for label, _, _ in BANDS
        ),
    )


RATINGS = Table(
    name="domain_ratings",
    dims=("period", "area", "domain"),
    margins=("area",),
    statements=True,
    headline="young_people",
    measures=(
        Count("young_people", "n", unit="young people reviewed"),
        *_view("young_person", "young person's rating"),
        *_view("adviser", "personal adviser's rating"),
        Count("both_rated", "pair_n", unit="young people", within="young_people"),
        Mean("gap_mean", "gap_sum", "both_rated", -10, 10, unit="young person minus adviser"),
        Count("young_person_lower", "yp_lower", unit="young people"),
        Rate("young_person_lower_rate", "young_person_lower", "both_rated"),
    ),
)

OUTCOMES = Table(
    name="contact_outcomes",
    dims=("period", "area", "age"),
    margins=("area", "age"),
    measures=(
        Count("young_people", "n", unit="care leavers aged 17-21 with a contact"),
        Count("in_touch", "in_touch", unit="young people"),
        Rate("in_touch_rate", "in_touch", "young_people"),
        Count("in_education_employment_training", "eet", unit="young people"),
        Rate("eet_rate", "in_education_employment_training", "young_people"),
        Count("suitably_accommodated", "suitable", unit="young people"),
        Rate("suitably_accommodated_rate", "suitably_accommodated", "young_people"),
    ),
)


def fact(name: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    if name == common.PERSON:
        return common.person_fact(record)
    if name == "pathway_plan_reviewed":
        ratings = {
            d["domain"]: [d.get("young_person_rating"), d.get("adviser_rating")]
            for d in record.get("domains") or []
        }
        m = common.month(record.get("review_date"))
        return {"m": m, "d": ratings} if m else None
    if name == "care_leaver_contact":
        m = common.month(record.get("contact_date"))
        if not m:
            return None
        return {
            "m": m,
            "touch": record.get("in_touch") == "YES",
            "eet": record.get("activity") in EET,
            "suit": record.get("accommodation_suitable") is True,
        }
    if name == "statement_recorded":
        text = common.quotable(record)
        if not text or record.get("context") != "PATHWAY_PLAN":
            return None
        if record.get("author_role") not in OWN_VOICE:
            return None
        codes = [
            *(record.get("themes") or []),
            *(i["item_code"] for i in record.get("items") or []),
        ]
        return {
            "m": common.month(record.get("expressed_at")),
            "text": text,
            "role": record["author_role"],
            "dom": sorted({_domain(c) for c in codes} - {None}),
        }
    return None


def _domain(code: str) -> str | None:
    code = code.lower()
    if code.upper() in DOMAINS:
        return code.upper()
    return THEMES.get(code)


def cells(facts: Facts) -> Iterable[Contribution]:
    who = common.person(facts)
    area = who["area"]
    latest: dict[str, dict[str, Any]] = {}
    for _, f in common.of(facts, "pathway_plan_reviewed"):
        latest[common.half_year(f["m"])] = f  # ordered by time: the last one wins
    statements = _statements(facts)
    for period, review in latest.items():
        yield from _ratings(period, area, review["d"], statements.get(period, {}))
    contacts: dict[str, dict[str, Any]] = {}
    for _, f in common.of(facts, "care_leaver_contact"):
        contacts[common.half_year(f["m"])] = f
    for period, c in contacts.items():
        group = _age_group(common.age_years(who["dob"], c["m"]))
        if group is None:
            continue
        values = {"n": 1, "in_touch": int(c["touch"]), "eet": int(c["eet"]), "suit": int(c["suit"])}
        yield OUTCOMES.name, (period, area, group), None, values


def _ratings(period, area, domains, statements) -> Iterable[Contribution]:
    own: list[int] = []
    theirs: list[int] = []
    for domain, (yp, pa) in sorted(domains.items()):
        values = _rating_values(yp, pa)
        values["_s"] = statements.get(domain, [])
        own += [yp] if yp is not None else []
        theirs += [pa] if pa is not None else []
        yield RATINGS.name, (period, area, domain), None, values
    overall = _rating_values(
        sum(own) / len(own) if own else None, sum(theirs) / len(theirs) if theirs else None
    )
    overall["_s"] = statements.get(ALL_DOMAINS, [])
    yield RATINGS.name, (period, area, ALL_DOMAINS), None, overall


def _rating_values(yp: float | None, pa: float | None) -> dict[str, Any]:
    values: dict[str, Any] = {"n": 1}
    for prefix, rating in (("young_person", yp), ("adviser", pa)):
        if rating is None:
            continue
        values[f"{prefix}_n"] = 1
        values[f"{prefix}_sum"] = rating
        for label, low, high in BANDS:
            if low <= round(rating) <= high:
                values[f"{prefix}_{label}"] = 1
    if yp is not None and pa is not None:
        values["pair_n"] = 1
        values["gap_sum"] = yp - pa
        values["yp_lower"] = int(yp < pa)
    return values


def _statements(facts: Facts) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """period -> domain -> the young person's quotable statements about it."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, f in common.of(facts, "statement_recorded"):
        period = common.half_year(f.get("m"))
        if not period:
            continue
        st = common.statement(key, f["text"], f["role"])
        for domain in f["dom"] or [ALL_DOMAINS]:
            out.setdefault(period, {}).setdefault(domain, []).append(st)
    return out


def _age_group(age: int | None) -> str | None:
    for low, high, label in AGE_GROUPS:
        if age is not None and low <= age <= high:
            return label
    return None


SPEC = AggregateSpec(
    name="care_leavers",
    events=(
        "pathway_plan_reviewed",
        "care_leaver_contact",
        "statement_recorded",
        common.PERSON,
    ),
    tables=(RATINGS, OUTCOMES),
    fact=fact,
    cells=cells,
    doc="Care leavers' own 0-10 ratings beside their advisers', by period, area and domain; "
    "in touch, EET and suitably accommodated at 17-21.",
)
