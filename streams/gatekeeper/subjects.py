"""What the gatekeeper remembers about each child between events (pure).

The sharing policy weighs the child's and family's recorded wishes, whether a
safeguarding concern is active, and the national data opt-out. Those come from
earlier events about the same child, so the gatekeeper keeps them per person
key (in a faust table; chorus.linked is keyed by person, so a child's events and
state live on one partition):

- ``consent.sharing_preference_recorded``: the latest version of each
  preference (by preference id); a purge removes it; its national data
  opt-out flag, where the source knows it;
- ``case_management.cp_plan_started`` / ``cp_plan_ended``: the open child
  protection plans, so a concern is active while one is open;
- what strategic reporting was last told the person's wishes withdraw
  (withdrawals.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from streams.gatekeeper.decision_input import SubjectState

PREFERENCE = "consent.sharing_preference_recorded"
CP_STARTED = "case_management.cp_plan_started"
CP_ENDED = "case_management.cp_plan_ended"
TRACKED = (PREFERENCE, CP_STARTED, CP_ENDED)


def _plain(value: Any) -> Any:
    """JSON-able copy (timestamps as ISO strings), for the table's changelog."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def updated(state: dict[str, Any] | None, event_type: str, record: dict[str, Any]) -> dict | None:
    """The new state after `record`, or None when the event changes nothing."""
    if event_type not in TRACKED:
        return None
    new = {
        **(state or {}),  # what else the gatekeeper keeps (withdrawals.py) stays as it is
        "preferences": dict((state or {}).get("preferences") or {}),
        "open_cp_plans": list((state or {}).get("open_cp_plans") or []),
        "national_data_opt_out": (state or {}).get("national_data_opt_out"),
    }
    purge = record["envelope"]["operation"] == "PURGE"
    if event_type == PREFERENCE:
        pid = record["preference_id"]
        if purge:
            new["preferences"].pop(pid, None)
        else:
            new["preferences"][pid] = _plain({k: v for k, v in record.items() if k != "envelope"})
            if record.get("national_data_opt_out") is not None:
                new["national_data_opt_out"] = record["national_data_opt_out"]
    else:
        plans = set(new["open_cp_plans"])
        if event_type == CP_STARTED and not purge:
            plans.add(record["cp_plan_id"])
        else:
            plans.discard(record["cp_plan_id"])
        new["open_cp_plans"] = sorted(plans)
    return None if new == (state or None) else new


def subject_state(state: dict[str, Any] | None) -> SubjectState | None:
    """The decision input's view of a stored state (None: nothing known about the child)."""
    if not state:
        return None
    return SubjectState(
        preferences=list((state.get("preferences") or {}).values()),
        safeguarding_concern=bool(state.get("open_cp_plans")),
        national_data_opt_out=bool(state.get("national_data_opt_out")),
    )
