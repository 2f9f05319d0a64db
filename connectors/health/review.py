"""The 2-2½ year review: ASQ-3 results from Observations or a QuestionnaireResponse.

Where the results can be (codes in ``codes.py``, documented in the README):

- Observations pointing at the review Encounter: one per area (code
  ``asq3-<area>``, ``valueQuantity``), or one ``asq3-panel`` with the five areas as
  ``component``s; the zone in ``interpretation``, the questionnaire interval in
  ``method``; ``asqse2-total``, ``parent-concern`` (one per concern),
  ``practitioner-concern`` (boolean) and ``onward-referral``;
- or a QuestionnaireResponse to ``REVIEW_QUESTIONNAIRE`` with items of the same
  linkIds (the zone as a nested ``zone`` item under each area's answer).

Only final results count (Observation status final, amended or corrected; a
QuestionnaireResponse completed or amended), and only a finished Encounter is a
completed review; anything else is skipped until it is. The zone is taken from
the source, which knows the monitoring threshold, and must agree with the
interval's cut-off; without a recorded interval it follows from the age.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.health import codes
from connectors.health.fhir import Entry, Index, code_in, codings, full_date, instant, ref_id
from connectors.health.mapping import (
    REVIEW,
    Context,
    Fault,
    ReviewGroup,
    event,
    fault,
    partition_key,
    patient_of,
    subject,
)

FINAL_OBSERVATION = frozenset({"final", "amended", "corrected"})
FINAL_RESPONSE = frozenset({"completed", "amended"})
_DOMAIN_BY_CODE = {c: d for (_, c), d in codes.ASQ3_DOMAIN_CODES.items()}
_QR_IGNORED = frozenset({codes.PARENT_COMMENT, codes.CONSENT_REPORTING, codes.CONSENT_QUOTES})


def _f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


@dataclass
class Found:
    """What the results of one review say, with the entry each piece came from."""

    scores: dict[str, tuple[float, str, Entry]] = field(default_factory=dict)
    intervals: set[str] = field(default_factory=set)
    concerns: set[str] = field(default_factory=set)
    practitioner_concern: bool = False
    referrals: list[tuple[str, Entry]] = field(default_factory=list)
    asqse2: int | None = None

    def score(self, domain: str, value: Any, zone: str | None, entry: Entry, path: str) -> None:
        if domain in self.scores:
            raise fault("asq3.area_repeated", "an ASQ-3 area is recorded twice", path, entry)
        if not isinstance(value, int | float | Decimal):
            raise fault("asq3.score_missing", "an ASQ-3 area has no numeric score", path, entry)
        if zone is None:
            raise fault("asq3.zone_missing", "an ASQ-3 area score has no zone", path, entry)
        if zone not in codes.ZONES:
            raise fault(
                "asq3.zone_code", "the zone is not in the asq3-zone code system", path, entry
            )
        self.scores[domain] = (float(value), zone, entry)

    def code(
        self, value: str | None, allowed: frozenset[str], rule: str, path: str, e: Entry
    ) -> str:
        if value not in allowed:
            raise fault(rule, f"{path} is missing or not in its code system", path, e)
        return value


def _observation(e: Entry, found: Found) -> None:
    obs = e.resource
    kinds = [
        (s, c)
        for s, c in codings(obs.code)
        if s == codes.REVIEW_SYSTEM or (s, c) in codes.ASQ3_DOMAIN_CODES
    ]
    system, code = kinds[0]
    domain = codes.ASQ3_DOMAIN_CODES.get((system, code))
    if domain is None and code not in codes.REVIEW_CODES:
        raise fault(
            "asq3.code_unknown",
            "Observation.code is not in the hcp-review code system",
            "Observation.code",
            e,
        )
    interval = code_in(obs.method, codes.INTERVAL_SYSTEM)
    if interval is not None:
        found.intervals.add(
            found.code(interval, codes.INTERVALS, "asq3.interval_code", "Observation.method", e)
        )
    if domain is not None:
        value = obs.valueQuantity.value if obs.valueQuantity else None
        found.score(
            domain, value, code_in(obs.interpretation, codes.ZONE_SYSTEM), e, "Observation.value"
        )
    elif code == codes.ASQ3_PANEL:
        for comp in obs.component or []:
            sub = next(
                (
                    codes.ASQ3_DOMAIN_CODES.get(sc)
                    for sc in codings(comp.code)
                    if sc in codes.ASQ3_DOMAIN_CODES
                ),
                None,
            )
            if sub is None:
                raise fault(
                    "asq3.code_unknown",
                    "a panel component is not an ASQ-3 area",
                    "Observation.component.code",
                    e,
                )
            value = comp.valueQuantity.value if comp.valueQuantity else None
            zone = code_in(comp.interpretation, codes.ZONE_SYSTEM)
            found.score(sub, value, zone, e, "Observation.component")
    elif code == codes.ASQSE2_TOTAL:
        value = obs.valueQuantity.value if obs.valueQuantity else obs.valueInteger
        if value is None or int(value) != value:
            raise fault(
                "asqse2.score", "the ASQ:SE-2 total must be a whole number", "Observation.value", e
            )
        found.asqse2 = int(value)
    elif code == codes.PARENT_CONCERN:
        concern = code_in(obs.valueCodeableConcept, codes.CONCERN_SYSTEM)
        found.concerns.add(
            found.code(concern, codes.CONCERNS, "review.concern_code", "Observation.value", e)
        )
    elif code == codes.PRACTITIONER_CONCERN:
        found.practitioner_concern = found.practitioner_concern or bool(obs.valueBoolean)
    elif code == codes.ONWARD_REFERRAL:
        referral = code_in(obs.valueCodeableConcept, codes.REFERRAL_SYSTEM)
        found.referrals.append(
            (
                found.code(
                    referral, codes.REFERRALS, "review.referral_code", "Observation.value", e
                ),
                e,
            )
        )


def _items(items: Any) -> list[Any]:
    """Every item of a QuestionnaireResponse, groups flattened (answers' own items stay put)."""
    out: list[Any] = []
    for item in items or []:
        out.append(item)
        out.extend(_items(item.item))
    return out


def _answer(item: Any, attr: str) -> Any:
    return next((getattr(a, attr) for a in item.answer or [] if getattr(a, attr) is not None), None)


def _response(e: Entry, found: Found) -> None:
    for item in _items(e.resource.item):
        link = item.linkId
        path = f"QuestionnaireResponse.item[{link}]"
        if link in _DOMAIN_BY_CODE:
            value = _answer(item, "valueDecimal")
            value = _answer(item, "valueInteger") if value is None else value
            nested = [i for a in item.answer or [] for i in a.item or []] + list(item.item or [])
            zone_item = next((i for i in nested if i.linkId == codes.ZONE), None)
            zone = None
            if zone_item is not None:
                zone = code_in(_answer(zone_item, "valueCoding"), codes.ZONE_SYSTEM)
            found.score(_DOMAIN_BY_CODE[link], value, zone, e, path)
        elif link == codes.INTERVAL:
            interval = code_in(_answer(item, "valueCoding"), codes.INTERVAL_SYSTEM)
            found.intervals.add(
                found.code(interval, codes.INTERVALS, "asq3.interval_code", path, e)
            )
        elif link == codes.ASQSE2_TOTAL:
            found.asqse2 = _answer(item, "valueInteger")
        elif link == codes.PARENT_CONCERN:
            for a in item.answer or []:
                concern = code_in(a.valueCoding, codes.CONCERN_SYSTEM)
                found.concerns.add(
                    found.code(concern, codes.CONCERNS, "review.concern_code", path, e)
                )
        elif link == codes.PRACTITIONER_CONCERN:
            found.practitioner_concern = found.practitioner_concern or bool(
                _answer(item, "valueBoolean")
            )
        elif link == codes.ONWARD_REFERRAL:
            referral = code_in(_answer(item, "valueCoding"), codes.REFERRAL_SYSTEM)
            found.referrals.append(
                (found.code(referral, codes.REFERRALS, "review.referral_code", path, e), e)
            )
        elif link not in _QR_IGNORED and link != codes.ZONE:
            raise fault(
                "asq3.item_unknown",
                "an item's linkId is not in the review questionnaire",
                "QuestionnaireResponse.item.linkId",
                e,
            )


def age_in_months(dob: dt.date, day: dt.date) -> tuple[int, int]:
    """Completed months and the days after that month's anniversary."""
    months = (day.year - dob.year) * 12 + day.month - dob.month - (day.day < dob.day)
    y, m = divmod(dob.month - 1 + months, 12)
    anniversary_month = dt.date(dob.year + y, m + 1, 1)
    next_month = dt.date(
        anniversary_month.year + anniversary_month.month // 12, anniversary_month.month % 12 + 1, 1
    )
    last_day = (next_month - dt.timedelta(days=1)).day
    anniversary = anniversary_month.replace(day=min(dob.day, last_day))
    return months, (day - anniversary).days


def interval_for_age(age: tuple[int, int]) -> str | None:
    return next((i for i, lo, hi in codes.INTERVAL_WINDOWS if lo <= age <= hi), None)


def _review_day(group: ReviewGroup, results: list[Entry]) -> dt.date | None:
    enc = group.encounter
    if enc is not None and enc.resource.period is not None and enc.resource.period.start:
        return full_date(enc.resource.period.start)
    for r in results:
        when = (
            r.resource.authored
            if r.resource_type == "QuestionnaireResponse"
            else r.resource.effectiveDateTime
        )
        if instant(when) is not None:
            return full_date(when)
    return None


def review_event(
    group: ReviewGroup, index: Index, ctx: Context
) -> tuple[dict[str, Any], bytes | None] | None:
    if group.broken:
        bad = min(group.broken, key=lambda b: b.index)
        raise Fault(bad.error, bad)
    enc = group.encounter
    if enc is not None and enc.resource.status != "finished":
        return None  # not completed yet: read again when it is
    results = [
        r
        for r in group.results
        if (
            r.resource.status in FINAL_OBSERVATION
            if r.resource_type == "Observation"
            else r.resource.status in FINAL_RESPONSE
        )
    ]
    anchor = enc or min(group.members, key=lambda m: m.index)
    subjects = {
        index.canonical(m.resource.subject.reference)
        for m in [anchor, *results]
        if m.resource.subject and m.resource.subject.reference
    }
    if len(subjects) > 1:
        raise fault(
            "review.subject_mismatch",
            "the review's resources are about different patients",
            "subject",
            anchor,
        )
    patient = patient_of(anchor, next(iter(subjects), None), index)
    subject_ = subject(patient)
    dob = full_date(patient.resource.birthDate)
    if dob is None:
        raise fault(
            "patient.birth_date",
            "the Patient has no full birthDate, so the age at review is unknown",
            "Patient.birthDate",
            patient,
        )
    day = _review_day(group, results)
    if day is None:
        raise fault(
            "review.date_missing",
            "the review has no date (Encounter.period.start)",
            "Encounter.period.start",
            anchor,
        )
    if day < dob:
        raise fault(
            "review.before_birth",
            "the review is dated before the child's birth",
            "Encounter.period.start",
            anchor,
        )
    found = Found()
    for r in results:
        (_observation if r.resource_type == "Observation" else _response)(r, found)
    missing = [d for d in codes.ASQ3_DOMAINS if d not in found.scores]
    if missing:
        raise fault(
            "asq3.scores_missing",
            f"no final ASQ-3 score for {', '.join(missing)}",
            missing[0],
            anchor,
        )
    age = age_in_months(dob, day)
    if len(found.intervals) > 1:
        raise fault(
            "asq3.interval_conflict", "the results name different ASQ-3 intervals", "method", anchor
        )
    interval = next(iter(found.intervals), None) or interval_for_age(age)
    if interval is None:
        raise fault(
            "asq3.interval_unknown",
            "no ASQ-3 interval was recorded and the age is outside the 24-30 month windows",
            "method",
            anchor,
        )
    if len(found.referrals) > 1:
        raise fault(
            "review.referral_repeated",
            "more than one onward referral",
            "onward-referral",
            found.referrals[1][1],
        )
    body: dict[str, Any] = {
        "encounter_id": ref_id(group.key),
        "review_date": day,
        "age_months": age[0],
        "asq3_interval": interval,
    }
    for domain in codes.ASQ3_DOMAINS:
        score, zone, src = found.scores[domain]
        if (_f32(score) < _f32(codes.ASQ3_CUTOFFS[interval][domain])) != (zone == "BELOW"):
            raise fault(
                "health.asq3_zone",
                "the zone must be BELOW exactly when the score is under the interval's cut-off",
                f"{domain}.zone",
                src,
            )
        body[domain] = {"score": score, "zone": zone}
    concerns = [c for c in codes.CONCERN_ORDER if c in found.concerns]
    parent, practitioner = bool(concerns), found.practitioner_concern
    body.update(
        all_five_at_expected=all(body[d]["zone"] != "BELOW" for d in codes.ASQ3_DOMAINS),
        asqse2_score=found.asqse2,
        parent_concerns=concerns,
        concern_raised_by="BOTH"
        if parent and practitioner
        else "PARENT"
        if parent
        else "PRACTITIONER"
        if practitioner
        else "NONE",
        onward_referral=found.referrals[0][0] if found.referrals else None,
    )
    record = event(
        REVIEW,
        ctx,
        anchor=anchor,
        key=ref_id(anchor.key) or anchor.key,
        behind=[patient, *group.members],
        event_time=day,
        subject_=subject_,
        correlation_id=body["encounter_id"],
        body=body,
    )
    return record, partition_key(subject_)
