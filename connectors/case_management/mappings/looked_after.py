"""Children looked after: ssd_cla_episodes (with the episode's placement and the legal
status in force), ssd_cla_placement, ssd_cla_reviews and ssd_missing."""

from __future__ import annotations

import datetime as dt

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
    instant,
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)
from schemas.errors import ContractError

EPISODE = "case_management.cla_episode"
PLACEMENT = "case_management.cla_placement"
REVIEW = "case_management.cla_review"
MISSING = "case_management.missing_episode"

RNE = enum("chorus.case_management.Rne")
LEGAL_STATUSES = enum("chorus.case_management.LegalStatus")
NEEDS = enum("chorus.case_management.PrimaryNeed")
PROVIDERS = enum("chorus.case_management.PlacementProvider")
PLACE_CHANGE = enum("chorus.case_management.ReasonPlaceChange")
PN_CODES = enum("chorus.case_management.PnParticipation")
MISSING_TYPES = enum("chorus.case_management.MissingType")
RHI = enum("chorus.case_management.ReturnInterviewAnswer")
#: Episodes that start with a change of placement carry REASON_PLACE_CHANGE.
PLACEMENT_CHANGES = frozenset("PTBU")

PLACEMENT_COLUMNS = {
    "placement_type": "clap_cla_placement_type",
    "placement_provider": "clap_cla_placement_provider",
    "distance_miles": "clap_cla_placement_distance",
}


def _placement_fields(p: Row) -> dict:
    return {
        "placement_type": required(
            text(p.get("clap_cla_placement_type")), "clap_cla_placement_type"
        ).upper(),
        "placement_provider": code(
            p.get("clap_cla_placement_provider"),
            PROVIDERS,
            "clap_cla_placement_provider",
            "placement_provider.code_list",
        ),
        "urn": text(p.get("clap_cla_placement_urn")),
        "placement_postcode": text(p.get("clap_cla_placement_postcode")),
        "distance_miles": p.get("clap_cla_placement_distance"),
    }


def _in_force(rows: list[Row], start_col: str, end_col: str, on: dt.date) -> Row | None:
    """The latest-starting row whose period covers ``on``."""
    best: Row | None = None
    best_start: dt.date | None = None
    for r in rows:
        begin, end = date(r.get(start_col), start_col), date(r.get(end_col), end_col)
        covers = begin is not None and begin <= on and (end is None or end >= on)
        if covers and (best_start is None or begin > best_start):
            best, best_start = r, begin
    return best


def _change_reason(row: Row, start: dt.date, rne: str) -> str | None:
    """REASON_PLACE_CHANGE: why the previous placement of the period ended on this start date."""
    if rne not in PLACEMENT_CHANGES:
        return None
    for p in row.get("period_placements") or []:
        if (
            p.get("clap_cla_placement_id") != row.get("clae_cla_placement_id")
            and date(p.get("clap_cla_placement_end_date"), "clap_cla_placement_end_date") == start
        ):
            return code(
                p.get("clap_cla_placement_change_reason"),
                PLACE_CHANGE,
                "clap_cla_placement_change_reason",
                "reason_place_change.code_list",
            )
    return None


def episode_events(row: Row, src: Source) -> list[Event]:
    key = str(row["clae_cla_episode_id"])
    start = required(
        date(row.get("clae_cla_episode_start_date"), "clae_cla_episode_start_date"),
        "clae_cla_episode_start_date",
    )
    rne = required(
        code(
            row.get("clae_cla_episode_start_reason"),
            RNE,
            "clae_cla_episode_start_reason",
            "rne.code_list",
        ),
        "clae_cla_episode_start_reason",
    )
    legal = _in_force(
        row.get("legal_statuses") or [],
        "lega_legal_status_start_date",
        "lega_legal_status_end_date",
        start,
    )
    if legal is None:
        raise ContractError(
            "required.missing",
            "no ssd_legal_status row is in force on clae_cla_episode_start_date",
            "lega_legal_status",
        )
    placement = row.get("placement")
    if not placement:
        raise ContractError(
            "required.missing",
            "clae_cla_placement_id names no ssd_cla_placement row",
            "clae_cla_placement_id",
        )
    home = _in_force(
        [a for a in row.get("addresses") or [] if a.get("addr_address_type") in (None, "HOME")],
        "addr_address_start_date",
        "addr_address_end_date",
        start,
    )
    period = required(text(row.get("clae_cla_id")), "clae_cla_id")
    record = {
        "envelope": make_envelope(
            EPISODE,
            row,
            src,
            entity=ssd.cla_episodes.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "clae_person_id"),
            correlation_id=period,
        ),
        "episode_id": key,
        "period_of_care_id": period,
        "referral_id": text(row.get("clae_referral_id")),
        "start_date": start,
        "rne": rne,
        "legal_status": required(
            code(
                legal.get("lega_legal_status"),
                LEGAL_STATUSES,
                "lega_legal_status",
                "legal_status.code_list",
            ),
            "lega_legal_status",
        ),
        "category_of_need": required(
            code(
                row.get("clae_cla_primary_need_code"),
                NEEDS,
                "clae_cla_primary_need_code",
                "primary_need.code_list",
            ),
            "clae_cla_primary_need_code",
        ),
        "placement_id": text(row.get("clae_cla_placement_id")),
        **_placement_fields(placement),
        "home_postcode": text((home or {}).get("addr_address_postcode")),
        "end_date": date(row.get("clae_cla_episode_ceased_date"), "clae_cla_episode_ceased_date"),
        "reason_episode_ceased": (text(row.get("clae_cla_episode_ceased_reason")) or "").upper()
        or None,
        "reason_place_change": _change_reason(row, start, rne),
        "uasc": None,
    }
    columns = {
        **PLACEMENT_COLUMNS,
        "category_of_need": "clae_cla_primary_need_code",
        "end_date": "clae_cla_episode_ceased_date",
        "reason_episode_ceased": "clae_cla_episode_ceased_reason",
    }
    return [validated(EPISODE, record, columns)]


def placement_events(row: Row, src: Source) -> list[Event]:
    key = str(row["clap_cla_placement_id"])
    start = required(
        date(row.get("clap_cla_placement_start_date"), "clap_cla_placement_start_date"),
        "clap_cla_placement_start_date",
    )
    period = required(text(row.get("clap_cla_id")), "clap_cla_id")
    record = {
        "envelope": make_envelope(
            PLACEMENT,
            row,
            src,
            entity=ssd.cla_placement.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "clap_person_id"),
            correlation_id=period,
        ),
        "placement_id": key,
        "period_of_care_id": period,
        "start_date": start,
        "end_date": date(row.get("clap_cla_placement_end_date"), "clap_cla_placement_end_date"),
        **_placement_fields(row),
        "change_reason": code(
            row.get("clap_cla_placement_change_reason"),
            PLACE_CHANGE,
            "clap_cla_placement_change_reason",
            "reason_place_change.code_list",
        ),
    }
    columns = {**PLACEMENT_COLUMNS, "end_date": "clap_cla_placement_end_date"}
    return [validated(PLACEMENT, record, columns)]


def review_events(row: Row, src: Source) -> list[Event]:
    key = str(row["clar_cla_review_id"])
    period = required(text(row.get("clar_cla_id")), "clar_cla_id")
    held = date(row.get("clar_cla_review_date"), "clar_cla_review_date")
    due = date(row.get("clar_cla_review_due_date"), "clar_cla_review_due_date")
    record = {
        "envelope": make_envelope(
            REVIEW,
            row,
            src,
            entity=ssd.cla_reviews.name,
            key=key,
            event_time=held or due or row["last_updated"],
            subject_record=subject(row, "clar_cla_id"),
            correlation_id=period,
        ),
        "review_id": key,
        "period_of_care_id": period,
        "due_date": due,
        "review_date": held,
        "cancelled": yn(row.get("clar_cla_review_cancelled"), "clar_cla_review_cancelled"),
        "participation": code(
            row.get("clar_cla_review_participation"),
            PN_CODES,
            "clar_cla_review_participation",
            "pn_participation.code_list",
        ),
    }
    return [validated(REVIEW, record, {"participation": "clar_cla_review_participation"})]


def missing_events(row: Row, src: Source) -> list[Event]:
    key = str(row["miss_table_id"])
    start = required(
        instant(row.get("miss_missing_episode_start_date"), "miss_missing_episode_start_date"),
        "miss_missing_episode_start_date",
    )

    def rhi(column: str) -> str | None:
        return code(row.get(column), RHI, column, "return_interview.code_list")

    record = {
        "envelope": make_envelope(
            MISSING,
            row,
            src,
            entity=ssd.missing.name,
            key=key,
            event_time=start,
            subject_record=subject(row, "miss_person_id"),
        ),
        "missing_id": key,
        "start_time": start,
        "end_time": instant(
            row.get("miss_missing_episode_end_date"), "miss_missing_episode_end_date"
        ),
        "missing_type": required(
            code(
                row.get("miss_missing_episode_type"),
                MISSING_TYPES,
                "miss_missing_episode_type",
                "missing_type.code_list",
            ),
            "miss_missing_episode_type",
        ),
        "rhi_offered": rhi("miss_missing_rhi_offered"),
        "rhi_accepted": rhi("miss_missing_rhi_accepted"),
    }
    columns = {
        "end_time": "miss_missing_episode_end_date",
        "rhi_accepted": "miss_missing_rhi_accepted",
    }
    return [validated(MISSING, record, columns)]


CLA_EPISODES = TableMapping(
    ssd.cla_episodes,
    key="clae_cla_episode_id",
    event_types=(EPISODE,),
    to_events=episode_events,
    person="clae_person_id",
    lookups=(
        Lookup(
            "placement",
            ssd.cla_placement,
            match="clap_cla_placement_id",
            on="clae_cla_placement_id",
            versioned=True,
        ),
        Lookup(
            "legal_statuses",
            ssd.legal_status,
            match="lega_person_id",
            on="clae_person_id",
            many=True,
        ),
        Lookup("addresses", ssd.address, match="addr_person_id", on="clae_person_id", many=True),
        Lookup(
            "period_placements",
            ssd.cla_placement,
            match="clap_cla_id",
            on="clae_cla_id",
            many=True,
        ),
    ),
    description="episodes of care (SSDA903 Episodes), with placement and legal status",
)
CLA_PLACEMENTS = TableMapping(
    ssd.cla_placement,
    key="clap_cla_placement_id",
    event_types=(PLACEMENT,),
    to_events=placement_events,
    person="clap_person_id",
    description="placements of looked-after children",
)
CLA_REVIEWS = TableMapping(
    ssd.cla_reviews,
    key="clar_cla_review_id",
    event_types=(REVIEW,),
    to_events=review_events,
    person="period.clae_person_id",
    lookups=(Lookup("period", ssd.cla_episodes, match="clae_cla_id", on="clar_cla_id"),),
    description="looked-after child reviews, with PN participation codes",
)
MISSING_EPISODES = TableMapping(
    ssd.missing,
    key="miss_table_id",
    event_types=(MISSING,),
    to_events=missing_events,
    person="miss_person_id",
    description="missing and away-from-placement episodes, with return interviews",
)
