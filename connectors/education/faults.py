"""Realistic faults in school export records, each with the rule the connector reports for it.

Used to make synthetic files (`deploy.synth.education`) and tests: a record is a
flat dict keyed by the CSV column names (see `exports`). Kept beside the mapping
so that a renamed rule breaks the tests that count dead letters by rule.
"""

from __future__ import annotations

import random
from typing import Any

from connectors.education.codes import ELGS
from schemas.identifiers import UPN_ALPHABET

DATE_FIELDS = ("StartDate", "EffectiveDate", "FSMStartDate", "MilestoneDate")
#: Export kind -> the rule an unknown code in it breaks.
CODE_RULES = {
    "eyfsp": "eyfsp.judgement",
    "attendance": "attendance.code",
    "exclusions": "exclusion.reason",
    "sen": "sen.need_type",
    "ehcp": "ehcp.milestone",
}
UPN_RULE, DATE_RULE = "upn.check", "date.format"


def bad_upn(upn: str) -> str:
    """The same UPN with a wrong (but valid-looking) check letter."""
    i = UPN_ALPHABET.index(upn[0])
    return UPN_ALPHABET[(i + 1 + i % 5) % len(UPN_ALPHABET)] + upn[1:]


def break_record(rng: random.Random, kind: str, rec: dict[str, Any], *, upn: bool = True) -> str:
    """Break one thing in ``rec``: a UPN check letter, a date or a code; returns the rule."""
    choices = (["upn"] if upn else []) + ["code"] * (kind in CODE_RULES)
    choices += ["date"] * any(rec.get(f) for f in DATE_FIELDS)
    if not choices:
        return ""
    what = rng.choice(choices)
    if what == "upn":
        rec["UPN"] = bad_upn(rec["UPN"])
        return UPN_RULE
    if what == "date":
        name = next(f for f in DATE_FIELDS if rec.get(f))
        rec[name] = f"{rec[name][:4]}-02-30"  # no such day
        return DATE_RULE
    if kind == "eyfsp":
        rec[rng.choice(ELGS)] = "3"  # the 'exceeding' judgement, removed in 2021
    elif kind == "attendance":
        by_code = rec["SessionsByCode"]
        by_code["H"] = by_code.pop(next(iter(by_code)))  # H: holiday, a retired code
    elif kind == "exclusions":
        rec["Reason1"] = "ZZ"
    elif kind == "sen":
        rec["SENNeed1"] = "XYZ"
    else:
        rec["Milestone"] = "PLAN_APPROVED"
    return CODE_RULES[kind]
