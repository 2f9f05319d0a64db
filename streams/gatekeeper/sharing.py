"""One decoded source event and one decision into a shared event and a ledger entry (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from streams.policy_client import Decision
from streams.pseudonyms import Pseudonymiser
from streams.transforms import apply_transforms


def record_key(envelope: dict[str, Any]) -> str:
    src = envelope["source_record"]
    return f"{envelope['source_instance']}:{src['entity']}:{src['key']}"


def shared_event(
    record: dict[str, Any],
    decision: Decision,
    recipient: str,
    purpose: str,
    pseudonymiser: Pseudonymiser,
    pkey: str | None = None,
) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
    """The event as `recipient` receives it for `purpose`, and what was transformed and withheld.

    `pkey` is the internal person key from identity linkage; it never leaves: the
    recipient gets this purpose's pseudonym of it.
    """
    env = record["envelope"]
    released = apply_transforms(record, decision.transforms, pseudonymiser, purpose)
    release_ids = "pseudonymise_subject" not in decision.obligations
    share = {
        "event_id": env["event_id"],
        "event_type": env["event_type"],
        "event_time": env["event_time"],
        "la_code": env["la_code"],
        "operation": env["operation"],
        "purpose": purpose,
        "recipient": recipient,
        "policy_revision": decision.revision,
        "person_pseudonym": pseudonymiser.pseudonym(purpose, "person", pkey) if pkey else None,
        "record_pseudonym": pseudonymiser.pseudonym(purpose, "record", record_key(env)),
        "identifiers": env["subject"] if release_ids else None,
    }
    return {"share": share, **released.fields}, released.transformed, released.withheld


def ledger_entry(
    record: dict[str, Any],
    decision: Decision,
    recipient: str,
    purpose: str,
    subject_ref: str | None,
    transformed: list[tuple[str, str]],
    withheld: list[str],
    share_topic: str | None,
) -> dict[str, Any]:
    env = record["envelope"]
    if not decision.allow:
        withheld = [name for name in record if name != "envelope"]
        transformed = []
    return {
        "event_id": env["event_id"],
        "event_type": env["event_type"],
        "event_time": env["event_time"],
        "subject_ref": subject_ref,
        "recipient": recipient,
        "purpose": purpose,
        "outcome": "SHARED" if decision.allow else "NOT_SHARED",
        "reason": decision.reason,
        "lawful_basis": decision.lawful_basis,
        "fields_transformed": [{"field": f, "transform": t} for f, t in transformed],
        "fields_withheld": withheld,
        "policy_revision": decision.revision,
        "decided_at": dt.datetime.now(dt.UTC),
        "share_topic": share_topic if decision.allow else None,
    }


#: Headers of every shared message: who decided, for whom, under which policy revision.
DECIDED_BY = b"chorus-gatekeeper"


def share_headers(event_id: str, recipient: str, purpose: str, revision: str) -> dict[str, bytes]:
    return {
        "chorus-decided-by": DECIDED_BY,
        "chorus-event-id": event_id.encode(),
        "chorus-purpose": purpose.encode(),
        "chorus-recipient": recipient.encode(),
        "chorus-policy-revision": revision.encode(),
    }
