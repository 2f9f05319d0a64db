"""From one education source record to the body of an ``education.*`` event (pure functions).

A source record is a flat dict keyed by the canonical column names of the CSV
exports (README: "What it reads"); the XML readers produce the same dicts, so
one mapping serves both. A record that breaks a rule raises ContractError naming
the rule and the column, never the value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from connectors.education import codes
from connectors.education.values import (
    Record,
    academic_year,
    code,
    count,
    date,
    day,
    listed,
    optional_count,
    optional_shaped,
    shaped,
    text,
    upn,
    yes_no,
)
from schemas.errors import ContractError

EYFSP = "education.eyfsp_assessed"
ATTENDANCE = "education.attendance_summarised"
EXCLUSION = "education.suspension_or_exclusion"
SEN = "education.sen_status_changed"
EHCP = "education.ehcp_milestone"
FSM = "education.fsm_eligibility_changed"
EVENT_TYPES = (EYFSP, ATTENDANCE, EXCLUSION, SEN, EHCP, FSM)

_URN = re.compile(r"(EY)?[0-9]{6,7}", re.ASCII)
_SCHOOL_URN = re.compile(r"[0-9]{6}", re.ASCII)
_ESTAB = re.compile(r"[0-9]{4}", re.ASCII)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,39}", re.ASCII)
_CEASED = re.compile(r"[A-Z0-9_]{1,20}", re.ASCII)
EHCP_WEEKS_DAYS = 140


@dataclass(frozen=True)
class Body:
    """An event without its envelope: the type, the fields, whose it is and when."""

    event_type: str
    fields: Record
    upn: str
    event_date: dt.date


# --------------------------------------------------------------------------- events


def eyfsp(record: Record) -> Body:
    year, first = academic_year(record)
    outcomes = [
        {"elg": elg, "outcome": code(record, elg, codes.ELG_JUDGEMENTS, "eyfsp.judgement")}
        for elg in codes.ELGS
    ]
    gld = all(item["outcome"] == "EXPECTED" for item in outcomes[:12])
    stated = yes_no(record, "GLD")
    if stated is not None and stated != gld:
        raise ContractError(
            "eyfsp.gld", "GLD disagrees with the 12 goals of the good level of development", "GLD"
        )
    fields = {
        "academic_year": year,
        "setting_urn": shaped(record, "URN", _URN, "urn.format", "6 or 7 digits, optionally EY"),
        "establishment_number": optional_shaped(
            record, "Estab", _ESTAB, "establishment.format", "4 digits"
        ),
        "elg_outcomes": outcomes,
        "gld": gld,
    }
    when = date(record, "AssessmentDate") or dt.date(first + 1, 6, 30)
    return Body(EYFSP, fields, upn(record), when)


def _term_end(term: str, first: int) -> dt.date:
    return {
        "AUTUMN": dt.date(first, 12, 31),
        "SPRING": dt.date(first + 1, 3, 31),
        "SUMMER": dt.date(first + 1, 7, 31),
    }[term]


def sessions_by_code(record: Record, name: str = "SessionsByCode") -> dict[str, int]:
    """``/:63;\\:61;I:8`` (CSV) or [(code, sessions), ...] (XML) -> the contract's by_code."""
    out: dict[str, int] = {}
    for item in listed(record, name):
        if isinstance(item, tuple):
            raw_code, sep, raw_n = item[0], ":", item[1]
        else:
            raw_code, sep, raw_n = str(item).partition(":")
        key = str(raw_code).strip().upper()
        key = codes.ATTENDANCE_SYMBOLS.get(key, key)
        if not sep or key not in codes.ATTENDANCE_CODES:
            raise ContractError(
                "attendance.code",
                f"{name} has a code that is not a 2024 national attendance code",
                name,
            )
        n = str(raw_n).strip()
        if not n.isdigit() or len(n) > 4:
            raise ContractError(
                "attendance.counts", f"{name} has a session count that is not a whole number", name
            )
        out[key] = out.get(key, 0) + int(n)
    return out


def attendance(record: Record) -> Body:
    year, first = academic_year(record)
    term = code(record, "Term", codes.TERMS, "term.code_list")
    possible = count(record, "SessionsPossible")
    authorised = count(record, "SessionsAuthorised")
    unauthorised = count(record, "SessionsUnauthorised")
    if authorised + unauthorised > possible:
        raise ContractError(
            "attendance.counts",
            "SessionsAuthorised plus SessionsUnauthorised is more than SessionsPossible",
            "SessionsUnauthorised",
        )
    by_code = sessions_by_code(record)
    if by_code:
        sums = {
            "SessionsAuthorised": (authorised, codes.AUTHORISED_CODES),
            "SessionsUnauthorised": (unauthorised, codes.UNAUTHORISED_CODES),
            "SessionsPossible": (
                possible,
                codes.PRESENT_CODES | codes.AUTHORISED_CODES | codes.UNAUTHORISED_CODES,
            ),
        }
        for name, (total, members) in sums.items():
            if sum(n for c, n in by_code.items() if c in members) != total:
                raise ContractError(
                    "attendance.code_totals",
                    f"the sessions by code do not add up to {name}",
                    "SessionsByCode",
                )
    rate = (authorised + unauthorised) / possible if possible else 0.0
    fields = {
        "academic_year": year,
        "term": term,
        "school_urn": optional_shaped(record, "URN", _SCHOOL_URN, "urn.format", "6 digits"),
        "sessions_possible": possible,
        "authorised_absences": authorised,
        "unauthorised_absences": unauthorised,
        "by_code": by_code,
        "persistent_absence_10": rate >= 0.10,
        "severe_absence_50": rate >= 0.50,
    }
    when = date(record, "TermEndDate") or _term_end(term, first)
    return Body(ATTENDANCE, fields, upn(record), when)


def exclusion_id(record: Record) -> str:
    """The source's id, or one derived from the record (no personal value shows in it)."""
    given = text(record, "ExclusionID")
    if given is not None:
        if not _ID.fullmatch(given):
            raise ContractError(
                "exclusion.id", "ExclusionID must be letters, digits and ./_- only", "ExclusionID"
            )
        return given
    basis = "|".join(
        str(text(record, n)) for n in ("URN", "UPN", "Category", "StartDate", "Sessions")
    )
    return "EXC-" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def exclusion(record: Record) -> Body:
    category = code(record, "Category", codes.EXCLUSION_CATEGORIES, "exclusion.category")
    start = day(record, "StartDate")
    sessions = optional_count(record, "Sessions")
    if category == "SUSPENSION" and (sessions is None or not 1 <= sessions <= 90):
        raise ContractError(
            "exclusion.sessions", "a suspension needs Sessions between 1 and 90", "Sessions"
        )
    if category == "PERMANENT" and sessions == 0:
        raise ContractError(
            "exclusion.sessions", "Sessions, where given, must be 1 or more", "Sessions"
        )
    reasons = listed(record, "Reasons") or [
        r for r in (text(record, f"Reason{i}") for i in (1, 2, 3)) if r
    ]
    reasons = [str(r).strip().upper() for r in reasons]
    if not reasons:
        raise ContractError("required.missing", "at least one reason is required", "Reason1")
    if any(r not in codes.EXCLUSION_REASONS for r in reasons) or len(set(reasons)) != len(reasons):
        raise ContractError(
            "exclusion.reason",
            "a reason is not in the exclusion reason code list, or is given twice",
            "Reason1",
        )
    fields = {
        "exclusion_id": exclusion_id(record),
        "school_urn": optional_shaped(record, "URN", _SCHOOL_URN, "urn.format", "6 digits"),
        "category": category,
        "start_date": start,
        "sessions": sessions,
        "reasons": reasons,
    }
    return Body(EXCLUSION, fields, upn(record), start)


def sen(record: Record) -> Body:
    effective = day(record, "EffectiveDate")
    provision = code(record, "SENProvision", codes.SEN_PROVISIONS, "sen.provision")
    pairs = listed(record, "Needs") or [
        (t, rank) for rank, t in ((1, text(record, "SENNeed1")), (2, text(record, "SENNeed2"))) if t
    ]
    needs = []
    for need_type, rank in pairs:
        kind = str(need_type).strip().upper()
        if kind not in codes.SEN_NEED_TYPES:
            raise ContractError(
                "sen.need_type", "SENNeed is not in the SEN type code list", "SENNeed1"
            )
        if str(rank).strip() not in ("1", "2"):
            raise ContractError("sen.needs", "a need's rank must be 1 or 2", "SENNeed1")
        needs.append({"need_type": kind, "rank": int(str(rank).strip())})
    ranks = [n["rank"] for n in needs]
    if provision == "N" and needs:
        raise ContractError("sen.needs", "provision N (no SEN) has no needs", "SENNeed1")
    if provision != "N" and (ranks.count(1) != 1 or ranks.count(2) > 1):
        raise ContractError(
            "sen.needs", "provision E or K needs one primary need and at most one more", "SENNeed1"
        )
    if provision != "K" and any(n["need_type"] == "NSA" for n in needs):
        raise ContractError("sen.need_type", "NSA applies to SEN support (K) only", "SENNeed1")
    needs.sort(key=lambda n: n["rank"])
    fields = {"effective_date": effective, "sen_provision": provision, "needs": needs}
    return Body(SEN, fields, upn(record), effective)


def ehcp(record: Record) -> Body:
    milestone = code(record, "Milestone", codes.EHCP_MILESTONES, "ehcp.milestone")
    when = day(record, "MilestoneDate")
    requested = date(record, "RequestDate")
    if requested is not None and requested > when:
        raise ContractError("dates.order", "RequestDate is after MilestoneDate", "RequestDate")
    issued = milestone == "PLAN_ISSUED"
    exception = yes_no(record, "Exception")
    if exception is not None and not issued:
        raise ContractError("ehcp.exception", "Exception applies to PLAN_ISSUED only", "Exception")
    ceased = text(record, "CeasedReason")
    if (milestone == "PLAN_CEASED") != (ceased is not None):
        raise ContractError(
            "ehcp.ceased_reason",
            "CeasedReason is required for PLAN_CEASED and only then",
            "CeasedReason",
        )
    if ceased is not None and not _CEASED.fullmatch(ceased.upper()):
        raise ContractError("ehcp.ceased_reason", "CeasedReason must be a code", "CeasedReason")
    within = (when - requested).days <= EHCP_WEEKS_DAYS if issued and requested else None
    fields = {
        "request_id": shaped(record, "RequestID", _ID, "ehcp.request_id", "an id"),
        "milestone": milestone, "milestone_date": when, "request_date": requested,
        "within_20_weeks": within, "exception": exception if issued else None,
        "ceased_reason": ceased.upper() if ceased else None,
    }  # fmt: skip
    return Body(EHCP, fields, upn(record), when)


def fsm(record: Record) -> Body:
    start = day(record, "FSMStartDate")
    end = date(record, "FSMEndDate")
    if end is not None and end < start:
        raise ContractError("dates.order", "FSMEndDate is before FSMStartDate", "FSMEndDate")
    eligible = yes_no(record, "Eligible")
    fields = {
        "eligible": True if eligible is None else eligible,
        "start_date": start,
        "end_date": end,
    }
    return Body(FSM, fields, upn(record), end or start)


MAPPERS: dict[str, Callable[[Record], Body]] = {
    EYFSP: eyfsp,
    ATTENDANCE: attendance,
    EXCLUSION: exclusion,
    SEN: sen,
    EHCP: ehcp,
    FSM: fsm,
}
