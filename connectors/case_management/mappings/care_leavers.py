"""Care leavers: ssd_care_leavers -> case_management.care_leaver_contact (each new
latest contact), ssd_pathway_plan_reviews with ssd_pathway_plan_domains ->
case_management.pathway_plan_reviewed (each domain rated 0-10 by the young person
and by the personal adviser)."""

from __future__ import annotations

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Lookup,
    Row,
    Source,
    TableMapping,
    code,
    date,
    enum,
    make_envelope,
    required,
    subject,
    text,
    validated,
)
from schemas.errors import ContractError

CONTACT = "case_management.care_leaver_contact"
PATHWAY = "case_management.pathway_plan_reviewed"

IN_TOUCH = enum("chorus.case_management.InTouch")
ACTIVITIES = enum("chorus.case_management.CareLeaverActivity")
ACCOMMODATION = enum("chorus.case_management.CareLeaverAccommodation")
ELIGIBILITY = enum("chorus.case_management.CareLeaverEligibility")
DOMAINS = enum("chorus.case_management.PathwayPlanDomain")
STATUSES = enum("chorus.case_management.PathwayDomainStatus")


def eligibility(value: object, column: str) -> str | None:
    """SSD wording (Relevant, Former Relevant, ..., No Current Eligibility) to the enum."""
    words = (text(value) or "").upper().replace("-", " ").split()
    if not words:
        return None
    name = "_".join(words)
    name = "NONE" if name in ("NO_CURRENT_ELIGIBILITY", "NOT_ELIGIBLE") else name
    return code(name, ELIGIBILITY, column, "care_leaver_eligibility.code_list")


def _accommodation(row: Row) -> tuple[str | None, bool | None]:
    """The ACCOM letter and its suitability (an SSDA903-style 'U1' carries both)."""
    raw = (text(row.get("clea_care_leaver_accommodation")) or "").upper()
    suitable_raw = text(row.get("clea_care_leaver_accom_suitable"))
    if len(raw) == 2 and raw[1] in "12" and suitable_raw is None:
        raw, suitable_raw = raw[0], raw[1]
    letter = None if raw in ("", "0") else raw
    letter = code(
        letter, ACCOMMODATION, "clea_care_leaver_accommodation", "accommodation.code_list"
    )
    if suitable_raw is None:
        return letter, None
    if suitable_raw not in ("1", "2"):
        raise ContractError(
            "accommodation_suitable.value",
            "clea_care_leaver_accom_suitable must be 1 (suitable) or 2 (unsuitable)",
            "clea_care_leaver_accom_suitable",
        )
    return letter, suitable_raw == "1"


def contact_events(row: Row, src: Source) -> list[Event]:
    contact = date(row.get("clea_care_leaver_latest_contact"), "clea_care_leaver_latest_contact")
    if contact is None:
        return []  # no contact recorded yet (the SSD leaves it blank when not in touch)
    key = str(row["clea_table_id"])
    activity = text(row.get("clea_care_leaver_activity"))
    accommodation, suitable = _accommodation(row)
    record = {
        "envelope": make_envelope(
            CONTACT,
            row,
            src,
            entity=ssd.care_leavers.name,
            key=key,
            event_time=contact,
            subject_record=subject(row, "clea_person_id"),
        ),
        "contact_date": contact,
        "in_touch": required(
            code(
                row.get("clea_care_leaver_in_touch"),
                IN_TOUCH,
                "clea_care_leaver_in_touch",
                "in_touch.code_list",
            ),
            "clea_care_leaver_in_touch",
        ),
        "activity": code(
            None if activity is None else f"ACT_{activity}",
            ACTIVITIES,
            "clea_care_leaver_activity",
            "care_leaver_activity.code_list",
        ),
        "accommodation": accommodation,
        "accommodation_suitable": suitable,
        "eligibility": eligibility(
            row.get("clea_care_leaver_eligibility"), "clea_care_leaver_eligibility"
        ),
        "personal_adviser_id": text(row.get("clea_care_leaver_personal_advisor")),
        "team": text(row.get("clea_care_leaver_allocated_team")),
    }
    columns = {
        "activity": "clea_care_leaver_activity",
        "accommodation": "clea_care_leaver_accommodation",
        "accommodation_suitable": "clea_care_leaver_accom_suitable",
    }
    return [validated(CONTACT, record, columns)]


def _rating(value: object, column: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ContractError("rating.format", f"{column} is not a whole number", column) from None


def pathway_events(row: Row, src: Source) -> list[Event]:
    key = str(row["ppre_review_id"])
    held = required(date(row.get("ppre_review_date"), "ppre_review_date"), "ppre_review_date")
    domains = []
    for d in row.get("domains") or []:
        domains.append(
            {
                "domain": required(
                    code(d.get("ppdo_domain"), DOMAINS, "ppdo_domain", "pathway_domain.code_list"),
                    "ppdo_domain",
                ),
                "status": required(
                    code(
                        d.get("ppdo_status"),
                        STATUSES,
                        "ppdo_status",
                        "pathway_domain_status.code_list",
                    ),
                    "ppdo_status",
                ),
                "young_person_rating": _rating(
                    d.get("ppdo_young_person_rating"), "ppdo_young_person_rating"
                ),
                "adviser_rating": _rating(d.get("ppdo_adviser_rating"), "ppdo_adviser_rating"),
            }
        )
    leaver = row.get("care_leaver") or {}
    record = {
        "envelope": make_envelope(
            PATHWAY,
            row,
            src,
            entity=ssd.pathway_plan_reviews.name,
            key=key,
            event_time=held,
            subject_record=subject(row, "ppre_person_id"),
            correlation_id=key,
        ),
        "review_id": key,
        "review_date": held,
        "next_review_date": date(row.get("ppre_next_review_date"), "ppre_next_review_date"),
        "personal_adviser_id": text(row.get("ppre_personal_adviser_id")),
        "eligibility": eligibility(
            leaver.get("clea_care_leaver_eligibility"), "clea_care_leaver_eligibility"
        ),
        "domains": domains,
    }
    columns = {
        "next_review_date": "ppre_next_review_date",
        "domain": "ppdo_domain",
        "young_person_rating": "ppdo_young_person_rating",
        "adviser_rating": "ppdo_adviser_rating",
    }
    return [validated(PATHWAY, record, columns)]


CARE_LEAVERS = TableMapping(
    ssd.care_leavers,
    key="clea_table_id",
    event_types=(CONTACT,),
    to_events=contact_events,
    person="clea_person_id",
    description="care leavers' latest contact, activity and accommodation (SSDA903 OC3)",
)
PATHWAY_PLANS = TableMapping(
    ssd.pathway_plan_reviews,
    key="ppre_review_id",
    event_types=(PATHWAY,),
    to_events=pathway_events,
    person="ppre_person_id",
    lookups=(
        Lookup(
            "domains",
            ssd.pathway_plan_domains,
            match="ppdo_review_id",
            on="ppre_review_id",
            many=True,
            versioned=True,
            order_by=("ppdo_table_id",),
        ),
        Lookup(
            "care_leaver",
            ssd.care_leavers,
            match="clea_person_id",
            on="ppre_person_id",
            order_by=("-last_updated",),
        ),
    ),
    description="pathway plan reviews with each domain's status and two ratings",
)
