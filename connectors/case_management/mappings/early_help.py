"""Early help: ssd_early_help_episodes -> early_help_episode_started (every version) and
early_help_episode_ended (once ended); ssd_early_help_outcomes ->
early_help_outcome_evidenced. Early help works with whole families, so the subject
carries the family id from ssd_family."""

from __future__ import annotations

import re

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
    json_value,
    make_envelope,
    required,
    subject,
    text,
    validated,
)
from schemas.errors import ContractError

STARTED = "case_management.early_help_episode_started"
ENDED = "case_management.early_help_episode_ended"
OUTCOME = "case_management.early_help_outcome_evidenced"

HEADLINES = enum("chorus.case_management.SupportingFamiliesHeadline")
END_REASONS = enum("chorus.case_management.EarlyHelpEndReason")
EVIDENCE = enum("chorus.case_management.EvidenceSource")

#: Common local wordings of earl_episode_end_reason; canonical codes pass through as they are.
END_REASON_WORDING = {
    "OUTCOMES ACHIEVED": "OUTCOMES_MET",
    "PLAN OUTCOMES MET": "OUTCOMES_MET",
    "STEP UP TO SOCIAL CARE": "STEP_UP_CSC",
    "STEPPED UP TO CSC": "STEP_UP_CSC",
    "STEP DOWN TO UNIVERSAL SERVICES": "STEP_DOWN_UNIVERSAL",
    "STEPPED DOWN": "STEP_DOWN_UNIVERSAL",
    "FAMILY DISENGAGED": "DISENGAGED",
    "CONSENT WITHDRAWN": "DISENGAGED",
    "MOVED OUT OF AREA": "MOVED",
}
_LOCAL_CODE = re.compile(r"[^A-Z0-9]+")


def reason_code(value: object) -> str | None:
    """A local early-help category as a code: 'Parenting support' -> PARENTING_SUPPORT."""
    words = text(value)
    if words is None:
        return None
    return _LOCAL_CODE.sub("_", words.upper()).strip("_")[:64] or None


def end_reason(value: object) -> str | None:
    words = text(value)
    if words is None:
        return None
    canonical = END_REASON_WORDING.get(" ".join(words.upper().split()), words.upper())
    return code(
        canonical, END_REASONS, "earl_episode_end_reason", "early_help_end_reason.code_list"
    )


def family_needs(row: Row) -> list[str]:
    column = "earl_family_needs_json"
    doc = json_value(row.get(column), column) or []
    if not isinstance(doc, list):
        raise ContractError("family_needs.shape", f"{column} is not a list", column)
    out: list[str] = []
    for item in doc:
        found = code(item, HEADLINES, column, "supporting_families_headline.code_list")
        if found is not None and found not in out:
            out.append(found)
    return out


def _family_subject(row: Row, person_column: str) -> dict:
    who = subject(row, person_column)
    who["family_id"] = text((row.get("family") or {}).get("fami_family_id"))
    return who


def episode_events(row: Row, src: Source) -> list[Event]:
    key = str(row["earl_episode_id"])
    start = required(
        date(row.get("earl_episode_start_date"), "earl_episode_start_date"),
        "earl_episode_start_date",
    )
    end = date(row.get("earl_episode_end_date"), "earl_episode_end_date")
    who = _family_subject(row, "earl_person_id")
    common = {
        "episode_id": key,
        "start_date": start,
        "lead_organisation": text(row.get("earl_episode_organisation")),
        "worker_id": text(row.get("earl_episode_worker_id")),
        "family_needs": family_needs(row),
    }

    def env(event_type: str, when: object, variant: str = "") -> dict:
        return make_envelope(
            event_type,
            row,
            src,
            entity=ssd.early_help_episodes.name,
            key=key,
            event_time=when,
            subject_record=who,
            correlation_id=key,
            variant=variant,
        )

    columns = {"end_date": "earl_episode_end_date", "family_needs": "earl_family_needs_json"}
    started = {
        "envelope": env(STARTED, start),
        **common,
        "reason_code": reason_code(row.get("earl_episode_reason")),
    }
    events = [validated(STARTED, started, columns)]
    if end is not None:
        reason = required(end_reason(row.get("earl_episode_end_reason")), "earl_episode_end_reason")
        ended = {
            "envelope": env(ENDED, end, "ended"),
            **common,
            "end_date": end,
            "end_reason": reason,
        }
        events.append(validated(ENDED, ended, columns))
    return events


def outcome_events(row: Row, src: Source) -> list[Event]:
    key = str(row["ehou_outcome_id"])
    achieved = required(
        date(row.get("ehou_achieved_date"), "ehou_achieved_date"), "ehou_achieved_date"
    )
    family = required(text(row.get("ehou_family_id")), "ehou_family_id")
    who = subject(row, "ehou_person_id")
    who["family_id"] = family
    record = {
        "envelope": make_envelope(
            OUTCOME,
            row,
            src,
            entity=ssd.early_help_outcomes.name,
            key=key,
            event_time=achieved,
            subject_record=who,
            correlation_id=text(row.get("ehou_episode_id")),
        ),
        "outcome_id": key,
        "family_id": family,
        "episode_id": text(row.get("ehou_episode_id")),
        "headline": required(
            code(
                row.get("ehou_headline"),
                HEADLINES,
                "ehou_headline",
                "supporting_families_headline.code_list",
            ),
            "ehou_headline",
        ),
        "sub_outcome": reason_code(row.get("ehou_sub_outcome")),
        "evidence_source": required(
            code(
                row.get("ehou_evidence_source"),
                EVIDENCE,
                "ehou_evidence_source",
                "evidence_source.code_list",
            ),
            "ehou_evidence_source",
        ),
        "achieved_date": achieved,
        "sustained_until": date(row.get("ehou_sustained_until"), "ehou_sustained_until"),
    }
    return [validated(OUTCOME, record, {"sustained_until": "ehou_sustained_until"})]


_FAMILY = Lookup("family", ssd.family, match="fami_person_id", on="earl_person_id")

EARLY_HELP_EPISODES = TableMapping(
    ssd.early_help_episodes,
    key="earl_episode_id",
    event_types=(STARTED, ENDED),
    to_events=episode_events,
    person="earl_person_id",
    lookups=(_FAMILY,),
    description="early help episodes: started on every version, ended once they end",
)
EARLY_HELP_OUTCOMES = TableMapping(
    ssd.early_help_outcomes,
    key="ehou_outcome_id",
    event_types=(OUTCOME,),
    to_events=outcome_events,
    person="ehou_person_id",
    description="Supporting Families outcomes evidenced for a family",
)
