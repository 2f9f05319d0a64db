"""Where a child's information went and why, in plain English, from their ledger rows (pure).

Written for a subject access request, and so that it could be shown to the child or
family: for each decision, when, which kind of information, to whom, for what
purpose, whether it was shared (as recorded, with changes, or not at all), what
was changed or held back, the policy's reason and the lawful basis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

#: The kind of information each event type is, in words (tests/unit/test_ledger_story.py
#: checks every source event type has one).
EVENT_WORDS = {
    "case_management.assessment": "an assessment of the child and family by children's social care",
    "case_management.care_leaver_contact": "the council keeping in touch with a care leaver",
    "case_management.cin_plan": "a child in need plan",
    "case_management.cla_episode": "a period of being looked after by the council",
    "case_management.cla_placement": "a placement while being looked after",
    "case_management.cla_review": "a review of a looked-after child's care plan",
    "case_management.contact": "a contact with children's services (a request for help or advice)",
    "case_management.cp_plan_ended": "a child protection plan ending",
    "case_management.cp_plan_reviewed": "a child protection review conference",
    "case_management.cp_plan_started": "a child protection plan starting",
    "case_management.early_help_episode_ended": "early help for the family ending",
    "case_management.early_help_episode_started": "early help for the family starting",
    "case_management.early_help_outcome_evidenced": "progress the family made with early help",
    "case_management.identifier_linked": "an identifier (such as an NHS number) being recorded",
    "case_management.initial_cp_conference": "an initial child protection conference",
    "case_management.missing_episode": "a time the child was missing or away without permission",
    "case_management.pathway_plan_reviewed": "a review of a care leaver's pathway plan",
    "case_management.person_registered": "the child's details (name, date of birth, address)",
    "case_management.referral": "a referral to children's social care",
    "case_management.s47_enquiry": "a child protection enquiry (section 47)",
    "consent.sharing_preference_recorded": "a wish about how the child's information is shared",
    "education.attendance_summarised": "school attendance for a term",
    "education.ehcp_milestone": "a step in an education, health and care plan",
    "education.eyfsp_assessed": "the end-of-reception assessment (EYFS profile)",
    "education.fsm_eligibility_changed": "free school meals eligibility",
    "education.sen_status_changed": "special educational needs support at school",
    "education.suspension_or_exclusion": "a suspension or exclusion from school",
    "health.development_review_completed": "the health visitor's 2 to 2½ year development review",
    "health.parent_comment_recorded": "a comment in the child's health record",
    "health.unscheduled_care_attendance_notified": "a visit to urgent or emergency care",
    "voice.statement_recorded": "something the child or family said (their views and wishes)",
    "voice.voice_note_recorded": "a family's Voice Note about the help they want",
}

CHANGES = {
    "pseudonymise": "Replaced by a code that does not identify the child",
    "month": "Shortened to the month",
    "year": "Shortened to the year",
    "district": "Shortened to the postcode district",
    "age_band": "Given as an age band",
    "redact": "Passed on with the words blacked out",
}


def event_words(event_type: str) -> str:
    return EVENT_WORDS.get(event_type) or "a record about " + event_type.split(".", 1)[-1].replace(
        "_", " "
    )


def _when(value: dt.datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%d %B %Y at %H:%M UTC").lstrip("0")


def _day(value: dt.datetime) -> str:
    return value.strftime("%d %B %Y").lstrip("0")


def _names(fields: Sequence[str]) -> str:
    return ", ".join(f.replace("[]", "").replace("_", " ") for f in fields)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _title(titles: Mapping[str, Mapping[str, Any]], key: str) -> str:
    return str((titles.get(key) or {}).get("title") or key.replace("_", " "))


def describe(
    row: Mapping[str, Any],
    recipients: Mapping[str, Mapping[str, Any]],
    purposes: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """The lines for one decision."""
    to = _title(recipients, row["recipient"])
    purpose = _title(purposes, row["purpose"]).lower()
    changed = row.get("fields_transformed") or []
    if row["outcome"] != "SHARED":
        lines = [f"  NOT SHARED with {to}, for {purpose}."]
    elif changed:
        lines = [f"  SHARED WITH CHANGES with {to}, for {purpose}."]
    else:
        lines = [f"  SHARED with {to}, for {purpose}."]
    if row["outcome"] == "SHARED":
        if row.get("fields_released"):
            lines.append(f"    Passed on as recorded: {_names(row['fields_released'])}.")
        by_change: dict[str, list[str]] = {}
        for item in changed:
            by_change.setdefault(item["transform"], []).append(item["field"])
        for transform, fields in by_change.items():
            how = CHANGES.get(transform, f"Changed ({transform})")
            lines.append(f"    {how}: {_names(fields)}.")
        if row.get("fields_withheld"):
            lines.append(f"    Not passed on: {_names(row['fields_withheld'])}.")
    lines.append(f"    Why: {row['reason'] or 'no reason was recorded'}")
    if row.get("lawful_basis"):
        lines.append(f"    Lawful basis: {row['lawful_basis']}")
    decided = _when(row["decided_at"])
    lines.append(f"    Decided {decided} under policy revision {row['policy_revision']}.")
    return lines


def story(
    rows: Sequence[Mapping[str, Any]],
    who: str,
    recipients: Mapping[str, Mapping[str, Any]],
    purposes: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Every decision about the child, grouped by the event it was about, oldest first."""
    if not rows:
        return [
            f"Where the information about the child with {who} went, and why",
            "",
            "No sharing decisions about this child are recorded in the ledger.",
        ]
    ordered = sorted(
        rows, key=lambda r: (r["event_time"], r["event_id"], r["decided_at"], r["recipient"])
    )
    shared = [r for r in rows if r["outcome"] == "SHARED"]
    changed = [r for r in shared if r.get("fields_transformed")]
    events = {r["event_id"] for r in rows}
    lines = [
        f"Where the information about the child with {who} went, and why",
        "",
        f"{_count(len(rows), 'decision')} about {_count(len(events), 'record')}: "
        f"{len(shared)} shared ({len(changed)} of them with changes), "
        f"{len(rows) - len(shared)} not shared.",
        "Every time information about the child arrives, Chorus asks the sharing policy, for "
        "each organisation that could receive it, whether it may, and records the answer.",
    ]
    for (event_id, event_type, when), group in groupby(
        ordered, key=lambda r: (r["event_id"], r["event_type"], r["event_time"])
    ):
        lines += ["", f"{_day(when)}: {event_words(event_type)} (event {event_id[:8]})"]
        for row in group:
            lines += describe(row, recipients, purposes)
    return lines
