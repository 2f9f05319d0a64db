"""Contract rules Avro cannot express for the education domain (``education.*`` events).

Code lists that change by regulation or by census year are strings in the
schemas and checked here: the attendance codes in force from 19 August 2024
(School Attendance (Pupil Registration) (England) Regulations 2024), and the
shape of exclusion reason and SEN2 ceasing codes.

Every rule raises :class:`schemas.errors.ContractError` with a stable rule id
and the field's path; messages never quote the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from schemas.errors import ContractError
from schemas.validation.voice import check_code, dispatch

__all__ = [
    "ATTENDANCE_CODES_2024",
    "ATTENDANCE_CODE_CATEGORIES_2024",
    "GLD_ELGS",
    "RULES",
    "validate",
]

#: The national attendance codes from 19 August 2024, by category, as ``by_code`` keys:
#: the symbol codes are named (/ PRESENT_AM, \\ PRESENT_PM, # PLANNED_CLOSURE).
ATTENDANCE_CODE_CATEGORIES_2024: dict[str, frozenset[str]] = {
    "present": frozenset({"PRESENT_AM", "PRESENT_PM", "L"}),
    "attending_elsewhere": frozenset({"K", "B", "D", "P", "V", "W"}),
    "leave_of_absence": frozenset({"C", "C1", "C2", "J1", "M", "R", "S", "T"}),
    "other_authorised": frozenset({"E", "I", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"}),
    "unauthorised": frozenset({"G", "N", "O", "U"}),
    "administrative": frozenset({"X", "Z", "PLANNED_CLOSURE"}),
}
ATTENDANCE_CODES_2024: frozenset[str] = frozenset().union(*ATTENDANCE_CODE_CATEGORIES_2024.values())

#: The 12 goals of the good level of development: prime areas, literacy, mathematics.
GLD_ELGS: frozenset[str] = frozenset(f"ELG{n:02d}" for n in range(1, 13))
ALL_ELGS: frozenset[str] = frozenset(f"ELG{n:02d}" for n in range(1, 18))

PERSISTENT_ABSENCE = 0.10
SEVERE_ABSENCE = 0.50
#: A pupil may be suspended for at most 45 school days (90 sessions) in a year.
MAX_SUSPENSION_SESSIONS = 90
EHCP_WEEKS_DAYS = 140

_ACADEMIC_YEAR = re.compile(r"([0-9]{4})/([0-9]{2})", re.ASCII)
_URN = re.compile(r"(EY)?[0-9]{6,7}", re.ASCII)
_SCHOOL_URN = re.compile(r"[0-9]{6}", re.ASCII)
_ESTABLISHMENT = re.compile(r"[0-9]{4}", re.ASCII)
_EXCLUSION_REASON = re.compile(r"[A-Z]{2}", re.ASCII)
_CEASED_REASON = re.compile(r"[A-Z0-9_]{1,20}", re.ASCII)


def _academic_year(value: str, field: str = "academic_year") -> None:
    match = _ACADEMIC_YEAR.fullmatch(value)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ContractError(
            "education.academic_year",
            f"{field} must be YYYY/YY with consecutive years (for example 2024/25)",
            field,
        )


def _school_urn(value: str | None, field: str = "school_urn") -> None:
    check_code(value, field, "education.urn", _SCHOOL_URN, "a 6-digit URN")


def _eyfsp_assessed(record: dict[str, Any]) -> None:
    _academic_year(record["academic_year"])
    check_code(
        record["setting_urn"],
        "setting_urn",
        "education.urn",
        _URN,
        "a URN of 6 or 7 digits, optionally prefixed EY",
    )
    check_code(
        record["establishment_number"],
        "establishment_number",
        "education.establishment_number",
        _ESTABLISHMENT,
        "4 digits",
    )
    outcomes: dict[str, str] = {}
    for item in record["elg_outcomes"]:
        if item["elg"] in outcomes:
            raise ContractError(
                "education.elg_complete",
                "each early learning goal may be judged once",
                "elg_outcomes",
            )
        outcomes[item["elg"]] = item["outcome"]
    if set(outcomes) != ALL_ELGS:
        raise ContractError(
            "education.elg_complete",
            "elg_outcomes must judge all 17 early learning goals",
            "elg_outcomes",
        )
    expected = all(outcomes[elg] == "EXPECTED" for elg in GLD_ELGS)
    if record["gld"] != expected:
        raise ContractError(
            "education.gld",
            "gld must be true exactly when ELG01-ELG12 are all EXPECTED",
            "gld",
        )


def _attendance_summarised(record: dict[str, Any]) -> None:
    _academic_year(record["academic_year"])
    _school_urn(record["school_urn"])
    possible = record["sessions_possible"]
    authorised, unauthorised = record["authorised_absences"], record["unauthorised_absences"]
    for name in ("sessions_possible", "authorised_absences", "unauthorised_absences"):
        if record[name] < 0:
            raise ContractError("education.attendance_counts", f"{name} must not be negative", name)
    absent = authorised + unauthorised
    if absent > possible:
        raise ContractError(
            "education.attendance_counts",
            "authorised plus unauthorised absences must not exceed sessions_possible",
            "unauthorised_absences",
        )
    for code, sessions in record["by_code"].items():
        if code not in ATTENDANCE_CODES_2024:
            # The key is a code, not personal data, but an unknown key may be anything.
            raise ContractError(
                "education.attendance_code",
                "by_code has a key that is not a 2024 national attendance code",
                "by_code",
            )
        if sessions < 0:
            raise ContractError(
                "education.attendance_counts",
                "session counts in by_code must not be negative",
                f"by_code.{code}",
            )
    rate = absent / possible if possible else 0.0
    if record["persistent_absence_10"] != (rate >= PERSISTENT_ABSENCE):
        raise ContractError(
            "education.persistent_absence",
            "persistent_absence_10 must be true exactly when absences are 10% or more "
            "of sessions_possible",
            "persistent_absence_10",
        )
    if record["severe_absence_50"] != (rate >= SEVERE_ABSENCE):
        raise ContractError(
            "education.severe_absence",
            "severe_absence_50 must be true exactly when absences are 50% or more "
            "of sessions_possible",
            "severe_absence_50",
        )


def _suspension_or_exclusion(record: dict[str, Any]) -> None:
    _school_urn(record["school_urn"])
    sessions = record["sessions"]
    if record["category"] == "SUSPENSION":
        if sessions is None or not 1 <= sessions <= MAX_SUSPENSION_SESSIONS:
            raise ContractError(
                "education.exclusion_sessions",
                f"a suspension must give sessions between 1 and {MAX_SUSPENSION_SESSIONS}",
                "sessions",
            )
    elif sessions is not None and sessions < 1:
        raise ContractError(
            "education.exclusion_sessions",
            "sessions of a permanent exclusion, where given, must be at least 1",
            "sessions",
        )
    reasons = record["reasons"]
    if not reasons:
        raise ContractError(
            "education.exclusion_reason", "at least one reason is required", "reasons"
        )
    for i, reason in enumerate(reasons):
        check_code(
            reason,
            f"reasons[{i}]",
            "education.exclusion_reason",
            _EXCLUSION_REASON,
            "a two-letter upper-case reason code",
        )
    if len(set(reasons)) != len(reasons):
        raise ContractError(
            "education.exclusion_reason", "each reason may be given once", "reasons"
        )


def _sen_status_changed(record: dict[str, Any]) -> None:
    provision, needs = record["sen_provision"], record["needs"]
    if provision == "N":
        if needs:
            raise ContractError(
                "education.sen_needs", "provision N (no SEN) must have no needs", "needs"
            )
        return
    ranks = [need["rank"] for need in needs]
    if any(rank not in (1, 2) for rank in ranks):
        raise ContractError("education.sen_needs", "a need's rank must be 1 or 2", "needs")
    if ranks.count(1) != 1 or ranks.count(2) > 1:
        raise ContractError(
            "education.sen_needs",
            "provision E or K needs exactly one primary (rank 1) need and at most one rank 2",
            "needs",
        )
    types = [need["need_type"] for need in needs]
    if len(set(types)) != len(types):
        raise ContractError(
            "education.sen_need_type", "each type of need may be given once", "needs"
        )
    if "NSA" in types and provision != "K":
        raise ContractError(
            "education.sen_need_type",
            "NSA (no specialist assessment) applies to SEN support (K) only",
            "needs",
        )


def _ehcp_milestone(record: dict[str, Any]) -> None:
    milestone = record["milestone"]
    issued = milestone == "PLAN_ISSUED"
    if not issued and record["within_20_weeks"] is not None:
        raise ContractError(
            "education.ehcp_within_20_weeks",
            "within_20_weeks applies to PLAN_ISSUED only",
            "within_20_weeks",
        )
    if not issued and record["exception"] is not None:
        raise ContractError(
            "education.ehcp_exception", "exception applies to PLAN_ISSUED only", "exception"
        )
    date: dt.date = record["milestone_date"]
    requested: dt.date | None = record["request_date"]
    if requested is not None:
        if requested > date:
            raise ContractError(
                "education.ehcp_dates",
                "request_date must not be after milestone_date",
                "request_date",
            )
        within = record["within_20_weeks"]
        if issued and within is not None and within != ((date - requested).days <= EHCP_WEEKS_DAYS):
            raise ContractError(
                "education.ehcp_within_20_weeks",
                "within_20_weeks must agree with the days from request_date to milestone_date",
                "within_20_weeks",
            )
    ceased = record["ceased_reason"]
    if (milestone == "PLAN_CEASED") != (ceased is not None):
        raise ContractError(
            "education.ehcp_ceased_reason",
            "ceased_reason is required for PLAN_CEASED and only then",
            "ceased_reason",
        )
    check_code(
        ceased,
        "ceased_reason",
        "education.ehcp_ceased_reason",
        _CEASED_REASON,
        "a code of upper-case letters, digits and underscores",
    )


def _fsm_eligibility_changed(record: dict[str, Any]) -> None:
    end = record["end_date"]
    if end is not None and end < record["start_date"]:
        raise ContractError("education.fsm_period", "end_date is before start_date", "end_date")


RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "education.eyfsp_assessed": _eyfsp_assessed,
    "education.attendance_summarised": _attendance_summarised,
    "education.suspension_or_exclusion": _suspension_or_exclusion,
    "education.sen_status_changed": _sen_status_changed,
    "education.ehcp_milestone": _ehcp_milestone,
    "education.fsm_eligibility_changed": _fsm_eligibility_changed,
}


def validate(event_type: str, record: dict[str, Any]) -> None:
    """Raise ContractError when a decoded ``education.*`` record breaks a non-Avro rule."""
    dispatch("education", RULES, event_type, record)
