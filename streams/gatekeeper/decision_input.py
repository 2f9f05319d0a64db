"""The input of one sharing decision, built from an event and the subject's state (pure).

The input is metadata only, never payload values, so OPA's answer can be cached
by (policy revision, input):

    {
      "event_type": "voice.statement_recorded",
      "purpose": "strategic_reporting",
      "recipient": "la_performance_team",
      "date": "2026-11-21",
      "voice_consent": {"strategic_reporting": true, "verbatim_quotes": false} | null,
      "subject": {
        "preferences": [
          {"expressed_by": "CHILD", "child_age_years": 13,
           "competence_assessed": "GILLICK_COMPETENT",
           "purpose": null, "recipient": null, "data_category": "voice",
           "decision": "OBJECT",
           "override": null | {"reason_code": "SIGNIFICANT_HARM", "legal_reference": null}}
        ],
        "safeguarding_concern": false,
        "national_data_opt_out": false
      }
    }

``subject`` is left out when the gatekeeper knows nothing about the child; the
policy then assumes no preferences, no safeguarding concern and no opt-out.
Only preferences in effect on the decision day and not withdrawn are passed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

PREFERENCE_KEYS = (
    "expressed_by",
    "child_age_years",
    "competence_assessed",
    "purpose",
    "recipient",
    "data_category",
    "decision",
    "override",
)
SCOPE_KEYS = ("purpose", "recipient", "data_category")


@dataclass(frozen=True)
class SubjectState:
    """What the gatekeeper knows about the child an event is about.

    ``preferences`` are the child's and family's sharing preferences: either
    ``consent.sharing_preference_recorded`` payloads (with ``scope``,
    ``effective_from``, ``withdrawn`` ...) or dicts already in the decision
    input's shape. Withdrawn preferences and those not in effect on the
    decision day are left out of the input.
    """

    preferences: list[dict[str, Any]] = field(default_factory=list)
    safeguarding_concern: bool = False
    national_data_opt_out: bool = False


def _day(value: Any) -> dt.date | None:
    """The calendar day of a timestamp, date or ISO string (UTC for aware timestamps)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"not a date or timestamp: {type(value).__name__}")


def in_effect(pref: dict[str, Any], day: dt.date) -> bool:
    """Whether a preference counts on `day`.

    A withdrawn preference never counts. When a preference starts or lapses
    during the day, an objection counts for the whole day and a consent does not:
    the cautious reading, which never shares more than the person agreed to.
    """
    if pref.get("withdrawn"):
        return False
    start, end = _day(pref.get("effective_from")), _day(pref.get("effective_to"))
    if pref.get("decision") == "OBJECT":
        return (start is None or start <= day) and (end is None or day <= end)
    return (start is None or start < day) and (end is None or day < end)


def _override(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {
        "reason_code": value.get("reason_code"),
        "legal_reference": value.get("legal_reference"),
    }


def preference_input(pref: dict[str, Any]) -> dict[str, Any]:
    """One preference in the decision input's shape (scope flattened, timestamps left out)."""
    scope = pref.get("scope") or {}
    out = {key: pref.get(key) for key in PREFERENCE_KEYS}
    for key in SCOPE_KEYS:
        out[key] = scope.get(key, pref.get(key))
    out["override"] = _override(pref.get("override"))
    return out


def voice_consent(record: dict[str, Any]) -> dict[str, bool] | None:
    """The consents a voice event carries about use beyond the person's own care, or None."""
    consent = record.get("consent_for_reports")
    if not isinstance(consent, dict):
        return None
    return {
        "strategic_reporting": bool(consent.get("strategic_reporting")),
        "verbatim_quotes": bool(consent.get("verbatim_quotes")),
    }


def decision_input(
    event_type: str,
    record: dict[str, Any],
    recipient: str,
    purpose: str,
    date: str,
    subject: SubjectState | None,
) -> dict[str, Any]:
    """The sharing policy's input for one event and one subscription on `date` (YYYY-MM-DD)."""
    out: dict[str, Any] = {
        "event_type": event_type,
        "purpose": purpose,
        "recipient": recipient,
        "date": date,
        "voice_consent": voice_consent(record),
    }
    if subject is not None:
        day = dt.date.fromisoformat(date)
        prefs = [preference_input(p) for p in subject.preferences if in_effect(p, day)]
        # A stable order, so equal states give equal inputs (and cache hits).
        prefs.sort(key=lambda p: json.dumps(p, sort_keys=True, default=str))
        out["subject"] = {
            "preferences": prefs,
            "safeguarding_concern": bool(subject.safeguarding_concern),
            "national_data_opt_out": bool(subject.national_data_opt_out),
        }
    return out
