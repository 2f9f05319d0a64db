"""FHIR R4 resources in exactly the shape this connector reads, as plain JSON-able dicts.

These builders are the executable form of the README's "what it reads": the
unit tests and the synthetic data writer (``deploy/synth/health.py``) use them,
so a change to the codes shows up everywhere at once. Values are the caller's;
nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.health import codes as c

VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CPIS_MESSAGE_ID = c.LOCAL + "Id/cpis-message"
AREA_CODES = {d: "asq3-" + d.replace("_", "-") for d in c.ASQ3_DOMAINS}


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _meta(stamp: str | None) -> dict[str, Any]:
    return {"meta": {"lastUpdated": stamp}} if stamp else {}


def _ref(kind: str, rid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def patient(
    pid: str,
    birth_date: str,
    nhs_number: str | None,
    *,
    stamp: str | None = None,
    name: tuple[str, str] | None = None,
    gender: str = "unknown",
) -> dict[str, Any]:
    """A UK Core Patient; the NHS number marked as verified (code 01)."""
    out: dict[str, Any] = {"resourceType": "Patient", "id": pid, **_meta(stamp)}
    if nhs_number:
        verified = {
            "url": c.NHS_VERIFICATION_EXTENSION,
            "valueCodeableConcept": cc(VERIFICATION_SYSTEM, c.NHS_VERIFIED_CODE),
        }
        out["identifier"] = [
            {"system": c.NHS_NUMBER_SYSTEM, "value": nhs_number, "extension": [verified]}
        ]
    if name:
        out["name"] = [{"family": name[0], "given": [name[1]]}]
    return {**out, "gender": gender, "birthDate": birth_date}


def review_encounter(
    eid: str, pid: str, start: str, *, stamp: str | None = None, ods: str = "RZZ"
) -> dict[str, Any]:
    """The 2-2½ year review contact (a home visit)."""
    return {
        "resourceType": "Encounter",
        "id": eid,
        **_meta(stamp),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "HH"},
        "type": [cc(c.ENCOUNTER_TYPE_SYSTEM, c.REVIEW_ENCOUNTER)],
        "subject": _ref("Patient", pid),
        "period": {"start": start},
        "serviceProvider": {"identifier": {"system": c.ODS_ORGANISATION_SYSTEM, "value": ods}},
    }


@dataclass
class Results:
    """What a review found: per area (score, zone), and the rest."""

    interval: str
    areas: dict[str, tuple[float, str]]
    concerns: list[str] = field(default_factory=list)
    practitioner_concern: bool = False
    referral: str | None = None
    asqse2: int | None = None


def review_observations(
    eid: str,
    pid: str,
    when: str,
    r: Results,
    *,
    panel: bool = False,
    stamp: str | None = None,
    area_codes: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The results as Observations: one per area, or one panel with five components."""
    names = {**AREA_CODES, **(area_codes or {})}
    common = {**_meta(stamp), "status": "final", "subject": _ref("Patient", pid)}
    common.update(encounter=_ref("Encounter", eid), effectiveDateTime=when)
    method = {"method": cc(c.INTERVAL_SYSTEM, r.interval)}

    def obs(code: str, n: int, **value: Any) -> dict[str, Any]:
        code_ = cc(c.REVIEW_SYSTEM, code)
        return {
            "resourceType": "Observation",
            "id": f"{eid}-o{n}",
            **common,
            "code": code_,
            **value,
        }

    def area(d: str) -> dict[str, Any]:
        score, zone = r.areas[d]
        return {"valueQuantity": {"value": score}, "interpretation": [cc(c.ZONE_SYSTEM, zone)]}

    if panel:
        parts = [{"code": cc(c.REVIEW_SYSTEM, names[d]), **area(d)} for d in c.ASQ3_DOMAINS]
        out = [obs(c.ASQ3_PANEL, 5, component=parts, **method)]
    else:
        out = [obs(names[d], n, **area(d), **method) for n, d in enumerate(c.ASQ3_DOMAINS)]
    for n, concern in enumerate(r.concerns):
        out.append(
            obs(c.PARENT_CONCERN, 10 + n, valueCodeableConcept=cc(c.CONCERN_SYSTEM, concern))
        )
    if r.practitioner_concern:
        out.append(obs(c.PRACTITIONER_CONCERN, 20, valueBoolean=True))
    if r.referral:
        out.append(
            obs(c.ONWARD_REFERRAL, 21, valueCodeableConcept=cc(c.REFERRAL_SYSTEM, r.referral))
        )
    if r.asqse2 is not None:
        out.append(obs(c.ASQSE2_TOTAL, 22, valueInteger=r.asqse2))
    return out


def _answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


def review_questionnaire(
    eid: str,
    pid: str,
    when: str,
    r: Results,
    *,
    comment: tuple[str, bool, bool] | None = None,
    stamp: str | None = None,
) -> dict[str, Any]:
    """The results as a QuestionnaireResponse; `comment` is (text, reporting, quotes)."""
    items = [_answer(c.INTERVAL, valueCoding={"system": c.INTERVAL_SYSTEM, "code": r.interval})]
    for d in c.ASQ3_DOMAINS:
        score, zone = r.areas[d]
        nested = _answer(c.ZONE, valueCoding={"system": c.ZONE_SYSTEM, "code": zone})
        items.append(_answer(AREA_CODES[d], valueDecimal=score, item=[nested]))
    if r.concerns:
        answers = [{"valueCoding": {"system": c.CONCERN_SYSTEM, "code": k}} for k in r.concerns]
        items.append({"linkId": c.PARENT_CONCERN, "answer": answers})
    items.append(_answer(c.PRACTITIONER_CONCERN, valueBoolean=r.practitioner_concern))
    if r.referral:
        coding = {"system": c.REFERRAL_SYSTEM, "code": r.referral}
        items.append(_answer(c.ONWARD_REFERRAL, valueCoding=coding))
    if r.asqse2 is not None:
        items.append(_answer(c.ASQSE2_TOTAL, valueInteger=r.asqse2))
    if comment:
        items.append(_answer(c.PARENT_COMMENT, valueString=comment[0]))
        items.append(_answer(c.CONSENT_REPORTING, valueBoolean=comment[1]))
        items.append(_answer(c.CONSENT_QUOTES, valueBoolean=comment[2]))
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"{eid}-qr",
        **_meta(stamp),
        "questionnaire": c.REVIEW_QUESTIONNAIRE,
        "status": "completed",
        "subject": _ref("Patient", pid),
        "encounter": _ref("Encounter", eid),
        "authored": when,
        "source": _ref("RelatedPerson", f"{pid}-rp1"),
        "item": items,
    }


def parent_comment(
    cid: str,
    pid: str,
    eid: str | None,
    sent: str,
    text: str,
    *,
    reporting: bool = False,
    quotes: bool = False,
    mode: str = "WRITTEN",
    stamp: str | None = None,
) -> dict[str, Any]:
    """A parent's comment (DCH CH022) with what the parent agreed to about reports."""
    consent = {
        "url": c.CONSENT_EXTENSION,
        "extension": [
            {"url": "strategicReporting", "valueBoolean": reporting},
            {"url": "verbatimQuotes", "valueBoolean": quotes},
        ],
    }
    out: dict[str, Any] = {
        "resourceType": "Communication",
        "id": cid,
        **_meta(stamp),
        "extension": [consent],
        "language": "en",
        "status": "completed",
        "category": [cc(c.CATEGORY_SYSTEM, c.PARENT_COMMENT)],
        "subject": _ref("Patient", pid),
        "sent": sent,
        "medium": [cc(c.PARTICIPATION_MODE_SYSTEM, mode)],
        "sender": _ref("RelatedPerson", f"{pid}-rp1"),
        "payload": [{"contentString": text}],
    }
    if eid:
        out["encounter"] = _ref("Encounter", eid)
    return out


def cpis_notification(
    nid: str,
    pid: str,
    aid: str,
    attended: str,
    *,
    setting: str,
    ods: str,
    plan: str,
    message_id: str,
    stamp: str | None = None,
) -> list[dict[str, Any]]:
    """A CP-IS Access to Service Notification: the attendance Encounter and the Communication."""
    encounter = {
        "resourceType": "Encounter",
        "id": aid,
        **_meta(stamp),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "EMER"},
        "type": [cc(c.CARE_SETTING_SYSTEM, setting)],
        "subject": _ref("Patient", pid),
        "period": {"start": attended},
        "serviceProvider": {"identifier": {"system": c.ODS_ORGANISATION_SYSTEM, "value": ods}},
    }
    notification = {
        "resourceType": "Communication",
        "id": nid,
        **_meta(stamp),
        "identifier": [{"system": CPIS_MESSAGE_ID, "value": message_id}],
        "status": "completed",
        "category": [cc(c.CATEGORY_SYSTEM, c.CPIS_NOTIFICATION)],
        "subject": _ref("Patient", pid),
        "encounter": _ref("Encounter", aid),
        "sent": stamp or attended,
        "reasonCode": [cc(c.PLAN_TYPE_SYSTEM, plan)],
    }
    return [encounter, notification]
