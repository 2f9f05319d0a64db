"""Contract rules Avro cannot express for the case management domain (``case_management.*``).

Run on a record that already matches its Avro schema (as a connector builds it,
or as the codec decodes it). Covers:

- the envelope: its event type, and the subject's identifiers (NHS number mod-11,
  UPN check letter, LA child id shape);
- dates: an end never before its start;
- ranges: ratings 0-10, counts never negative, distances 0-999.9 miles;
- the dated code sets (``schemas.codesets``): an SSDA903 placement type must be in
  force on the date the placement or episode started, a reason episode ceased on
  the date it ceased;
- SSDA903/CIN consistency rules that are about one record (for example no
  placement provider for temporary moves, NONE never with another disability).

Every rule raises :class:`schemas.errors.ContractError` with a stable rule id and
the field's path (``domains[2].adviser_rating``); messages name the rule and the
field, never the value, which may be personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from schemas.codesets import load as load_codeset
from schemas.errors import ContractError
from schemas.identifiers import nhs_number_error, upn_error

__all__ = [
    "MAX_DISTANCE_MILES",
    "NO_PROVIDER_PLACEMENTS",
    "RATING_MAX",
    "RATING_MIN",
    "RULES",
    "check_envelope",
    "validate",
]

DOMAIN = "case_management"
RATING_MIN, RATING_MAX = 0, 10
#: SSDA903 records distances up to 999.9 miles.
MAX_DISTANCE_MILES = 999.9
#: Placement types that have no placement provider (SSDA903 rule 178, 2022-23 and 2025-26).
NO_PROVIDER_PLACEMENTS = frozenset({"T0", "T1", "T2", "T3", "Z1", "Z11", "Z12", "Z13", "Z14"})
#: Categories of need valid for a looked-after child (SSDA903 CIN: N1-N8).
CLA_CATEGORIES_OF_NEED = frozenset(f"N{i}" for i in range(1, 9))
#: Gender: 00, 01, 02, 09, and 10-99 as local sub-codes of 09.
_GENDER = re.compile(r"0[0129]|[1-9][0-9]", re.ASCII)
#: LA child id: at most 20 characters, letters and digits only (CIN rules 1570, 1580).
_LA_CHILD_ID = re.compile(r"[A-Za-z0-9]{1,20}", re.ASCII)
_EPOCH = dt.date(1970, 1, 1)

Record = dict[str, Any]


# --------------------------------------------------------------------------- helpers


def _fail(rule: str, reason: str, field: str) -> NoReturn:
    raise ContractError(rule, reason, field)


def _day(value: Any, field: str) -> dt.date | None:
    """A date field's value as a date (Avro may also hand over days since the epoch)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + dt.timedelta(days=value)
    _fail("date.type", f"{field} does not hold a date", field)


def _instant(value: Any, field: str) -> dt.datetime | None:
    """A timestamp field's value as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=value)
    _fail("date.type", f"{field} does not hold a timestamp", field)


def _order(record: Record, start: str, end: str, *, timestamps: bool = False) -> None:
    """``end`` is never before ``start`` (either may be null)."""
    conv = _instant if timestamps else _day
    a, b = conv(record.get(start), start), conv(record.get(end), end)
    if a is not None and b is not None and b < a:
        _fail("dates.order", f"{end} is before {start}", end)


def _rating(value: Any, field: str) -> None:
    if value is not None and not RATING_MIN <= value <= RATING_MAX:
        _fail("rating.range", f"{field} must be from {RATING_MIN} to {RATING_MAX}", field)


def _count(value: Any, field: str) -> None:
    if value is not None and value < 0:
        _fail("count.range", f"{field} must not be negative", field)


def _unique(values: Iterable[Any], field: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            _fail("array.duplicate", f"{field} lists the same code more than once", field)
        seen.add(v)


def _code_set(record: Record, field: str, codeset: str, on_field: str) -> None:
    """``record[field]`` is in the dated code set and in force on ``record[on_field]``."""
    code = record.get(field)
    if code is None:
        return
    cs = load_codeset(codeset)
    if not cs.is_known(code):
        _fail(f"{field}.code_set", f"{field} is not in the {codeset} code set", field)
    on = _day(record.get(on_field), on_field)
    if on is not None and not cs.is_valid(code, on):
        _fail(
            f"{field}.code_set_date",
            f"{field} is not in force on {on_field} in the {codeset} code set",
            field,
        )


def _placement(record: Record) -> None:
    """Placement type, provider and distance, shared by cla_episode and cla_placement."""
    _code_set(record, "placement_type", "placement_type", "start_date")
    if (
        record.get("placement_type") in NO_PROVIDER_PLACEMENTS
        and record.get("placement_provider") is not None
    ):
        _fail(
            "placement_provider.not_applicable",
            "placement_provider must be null for a temporary move or an other placement",
            "placement_provider",
        )
    distance = record.get("distance_miles")
    if distance is not None and not 0 <= distance <= MAX_DISTANCE_MILES:
        _fail(
            "distance_miles.range",
            f"distance_miles must be from 0 to {MAX_DISTANCE_MILES}",
            "distance_miles",
        )


# --------------------------------------------------------------------------- envelope


def check_envelope(event_type: str, record: Record) -> None:
    """The envelope names this event type and the subject's identifiers pass their checks."""
    env = record.get("envelope") if isinstance(record, dict) else None
    if not isinstance(env, dict):
        _fail("envelope.missing", "the record has no envelope", "envelope")
    if env.get("event_type") != event_type:
        _fail(
            "envelope.event_type",
            "the envelope's event_type is not the event type of the schema",
            "envelope.event_type",
        )
    subject = env.get("subject") or {}
    nhs = subject.get("nhs_number")
    if nhs is not None:
        why = nhs_number_error(nhs)
        if why:
            _fail("nhs_number.check", why, "envelope.subject.nhs_number")
    upn = subject.get("upn")
    if upn is not None:
        why = upn_error(upn)
        if why:
            _fail("upn.check", why, "envelope.subject.upn")
    child = subject.get("la_child_id")
    if child is not None and not (isinstance(child, str) and _LA_CHILD_ID.fullmatch(child)):
        _fail(
            "la_child_id.format",
            "la_child_id must be 1 to 20 letters and digits",
            "envelope.subject.la_child_id",
        )


# --------------------------------------------------------------------------- event rules


def _nothing(record: Record) -> None:
    """Event types whose only rules beyond Avro are the envelope's."""


def _person_registered(record: Record) -> None:
    dob, expected = record.get("dob"), record.get("expected_dob")
    if dob is None and expected is None:
        _fail("required.missing", "dob or expected_dob is required", "dob")
    unborn = dob is None
    if unborn and record.get("sex") != "U":
        _fail("sex.unborn", "sex must be U for an unborn child", "sex")
    _order(record, "dob", "death_date")
    gender = record.get("gender")
    if gender is not None and not _GENDER.fullmatch(gender):
        _fail(
            "gender.code",
            "gender must be a two-digit code: not known, man or boy, woman or girl, "
            "self-described, or a local sub-code of self-described",
            "gender",
        )
    disabilities = record.get("disabilities") or []
    _unique(disabilities, "disabilities")
    if "NONE" in disabilities and len(disabilities) > 1:
        _fail(
            "disabilities.none_exclusive",
            "disabilities must not combine 'no disability' with another code",
            "disabilities",
        )
    if unborn and disabilities:
        _fail(
            "disabilities.unborn", "disabilities must be empty for an unborn child", "disabilities"
        )
    if record.get("upn_unknown") is not None and record["envelope"]["subject"].get("upn"):
        _fail(
            "upn_unknown.with_upn",
            "upn_unknown must be null when the subject has a UPN",
            "upn_unknown",
        )


_CHECKED_IDENTIFIERS: dict[str, Callable[[str], str | None]] = {
    "NHS_NUMBER": nhs_number_error,
    "UPN": upn_error,
    "FORMER_UPN": upn_error,
}


def _identifier_linked(record: Record) -> None:
    _order(record, "valid_from", "valid_to")
    check = _CHECKED_IDENTIFIERS.get(record.get("identifier_type"))
    if check is None:
        return
    passed = check(record.get("value")) is None
    if record.get("check_passed") is None:
        _fail(
            "identifier.check_passed",
            "check_passed is required for an identifier type that has a check",
            "check_passed",
        )
    if record["check_passed"] != passed:
        _fail(
            "identifier.check_passed",
            "check_passed disagrees with the identifier's check",
            "check_passed",
        )


def _assessment(record: Record) -> None:
    _order(record, "start_date", "authorised_date")
    factors = record.get("factors") or []
    _unique(factors, "factors")
    if "AF_21" in factors and len(factors) > 1:
        _fail(
            "factors.none_exclusive",
            "factors must not combine 'no factors identified' with another factor",
            "factors",
        )
    _count((record.get("outcome") or {}).get("total_outcomes"), "outcome.total_outcomes")


def _s47_enquiry(record: Record) -> None:
    _order(record, "strategy_discussion_date", "end_date")
    _order(record, "strategy_discussion_date", "icpc_target_date")
    outcome = record.get("outcome") or {}
    if record.get("icpc_required") is False and outcome.get("cp_conference") is True:
        _fail(
            "s47.icpc_consistent",
            "icpc_required is false but the outcome says a conference follows",
            "icpc_required",
        )
    _count(outcome.get("total_outcomes"), "outcome.total_outcomes")


def _initial_cp_conference(record: Record) -> None:
    outcome = record.get("outcome") or {}
    flag, cp = record.get("outcome_cp"), outcome.get("cp_plan")
    if flag is not None and cp is not None and flag != cp:
        _fail(
            "icpc.outcome_consistent",
            "outcome_cp disagrees with outcome.cp_plan",
            "outcome_cp",
        )
    _count(outcome.get("total_outcomes"), "outcome.total_outcomes")


def _dated(record: Record) -> None:
    _order(record, "start_date", "end_date")


def _cp_plan(record: Record) -> None:
    _order(record, "start_date", "end_date")
    _count(record.get("number_previous_cpp"), "number_previous_cpp")


def _cla_episode(record: Record) -> None:
    _order(record, "start_date", "end_date")
    if record.get("category_of_need") not in CLA_CATEGORIES_OF_NEED:
        _fail(
            "category_of_need.code_list",
            "category_of_need must be N1 to N8 for a looked-after child",
            "category_of_need",
        )
    _placement(record)
    ended, reason = record.get("end_date"), record.get("reason_episode_ceased")
    if ended is not None and reason is None:
        _fail(
            "required.missing",
            "reason_episode_ceased is required when end_date is set",
            "reason_episode_ceased",
        )
    if reason is not None and ended is None:
        _fail("required.missing", "end_date is required with reason_episode_ceased", "end_date")
    _code_set(record, "reason_episode_ceased", "reason_episode_ceased", "end_date")


def _cla_placement(record: Record) -> None:
    _order(record, "start_date", "end_date")
    _placement(record)


def _cla_review(record: Record) -> None:
    if record.get("cancelled") is True and record.get("participation") is not None:
        _fail(
            "cla_review.cancelled_with_participation",
            "a cancelled review has no participation code",
            "participation",
        )


def _missing_episode(record: Record) -> None:
    _order(record, "start_time", "end_time", timestamps=True)
    if record.get("rhi_offered") == "N" and record.get("rhi_accepted") == "Y":
        _fail(
            "return_interview.accepted_not_offered",
            "rhi_accepted says the interview was accepted but rhi_offered says it was not offered",
            "rhi_accepted",
        )


def _care_leaver_contact(record: Record) -> None:
    in_touch, activity = record.get("in_touch"), record.get("activity")
    accommodation, suitable = record.get("accommodation"), record.get("accommodation_suitable")
    if in_touch == "YES" and activity == "ACT_0":
        _fail(
            "care_leaver.in_touch_activity",
            "activity must not be 'not known' when in_touch says the LA is in touch",
            "activity",
        )
    if in_touch in ("DIED", "RHOM"):
        if activity not in (None, "ACT_0"):
            _fail(
                "care_leaver.not_applicable",
                "activity must be 'not known' or null when the young person has died "
                "or returned home",
                "activity",
            )
        if accommodation is not None:
            _fail(
                "care_leaver.not_applicable",
                "accommodation must be null when the young person has died or returned home",
                "accommodation",
            )
    if suitable is not None and accommodation is None:
        _fail(
            "accommodation_suitable.without_accommodation",
            "accommodation_suitable needs accommodation",
            "accommodation_suitable",
        )
    if suitable is True and accommodation in ("S", "X"):
        _fail(
            "accommodation_suitable.not_allowed",
            "accommodation_suitable cannot be true for no fixed abode or custody",
            "accommodation_suitable",
        )


def _pathway_plan_reviewed(record: Record) -> None:
    _order(record, "review_date", "next_review_date")
    seen: set[str] = set()
    for i, entry in enumerate(record.get("domains") or []):
        where = f"domains[{i}]"
        if entry.get("domain") in seen:
            _fail(
                "pathway_plan.domain_duplicate",
                f"{where}.domain repeats a domain already reviewed",
                f"{where}.domain",
            )
        seen.add(entry.get("domain"))
        _rating(entry.get("young_person_rating"), f"{where}.young_person_rating")
        _rating(entry.get("adviser_rating"), f"{where}.adviser_rating")


def _early_help_started(record: Record) -> None:
    _unique(record.get("family_needs") or [], "family_needs")


def _early_help_ended(record: Record) -> None:
    _order(record, "start_date", "end_date")
    _unique(record.get("family_needs") or [], "family_needs")


def _early_help_outcome(record: Record) -> None:
    _order(record, "achieved_date", "sustained_until")


def _referral(record: Record) -> None:
    _order(record, "referral_date", "close_date")


RULES: dict[str, Callable[[Record], None]] = {
    "case_management.referral": _referral,
    "case_management.person_registered": _person_registered,
    "case_management.identifier_linked": _identifier_linked,
    "case_management.contact": _nothing,
    "case_management.assessment": _assessment,
    "case_management.s47_enquiry": _s47_enquiry,
    "case_management.initial_cp_conference": _initial_cp_conference,
    "case_management.cin_plan": _dated,
    "case_management.cp_plan_started": _cp_plan,
    "case_management.cp_plan_reviewed": _nothing,
    "case_management.cp_plan_ended": _cp_plan,
    "case_management.cla_episode": _cla_episode,
    "case_management.cla_placement": _cla_placement,
    "case_management.cla_review": _cla_review,
    "case_management.missing_episode": _missing_episode,
    "case_management.care_leaver_contact": _care_leaver_contact,
    "case_management.pathway_plan_reviewed": _pathway_plan_reviewed,
    "case_management.early_help_episode_started": _early_help_started,
    "case_management.early_help_episode_ended": _early_help_ended,
    "case_management.early_help_outcome_evidenced": _early_help_outcome,
}


def validate(event_type: str, record: Record) -> None:
    """Raise ContractError when a ``case_management.*`` record breaks a rule Avro cannot express."""
    check = RULES.get(event_type)
    if check is None:
        _fail(
            "validation.unknown_event_type",
            f"the {DOMAIN} validator has no rules for this event type",
            "envelope.event_type",
        )
    check_envelope(event_type, record)
    check(record)
