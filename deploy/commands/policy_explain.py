"""`chorus policy explain`: what the sharing policy decides for one event, in plain English.

Allowed or not, why, under which agreement and lawful basis, the obligations, and
what happens to every field of the event (kept, generalised, pseudonymised,
redacted, scrubbed, withheld). It never prints the event's values.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from deploy.commands.common import UserError
from deploy.commands.policy import EXIT_OK, SUBJECT_KEYS

WHAT_HAPPENS = {
    "keep": "kept",
    "pseudonymise": "replaced by a pseudonym for this purpose",
    "month": "generalised to the month (YYYY-MM)",
    "year": "generalised to the year (YYYY)",
    "district": "cut to the postcode district",
    "age_band": "put into an age band",
    "redact": "redacted (the words replaced by a marker)",
    "scrub": "scrubbed (the words kept; names, numbers, postcodes and dates replaced by markers)",
    "drop": "withheld",
}


def _field_paths(schema_fields: list[dict[str, Any]], prefix: str = "") -> list[str]:
    """Every field path of a record type: top-level names and nested ones (items[].text)."""
    paths = []
    for f in schema_fields:
        if not prefix and f["name"] == "envelope":
            continue
        path = f"{prefix}{f['name']}"
        paths.append(path)
        record, each = _record_inside(f["type"])
        if record is not None:
            paths += _field_paths(record["fields"], f"{path}{'[]' if each else ''}.")
    return paths


def _record_inside(t: Any) -> tuple[dict[str, Any] | None, bool]:
    """The record type a field holds (directly, optionally, or as list elements), if any."""
    for branch in t if isinstance(t, list) else [t]:
        if isinstance(branch, dict) and branch.get("type") == "record":
            return branch, False
        if isinstance(branch, dict) and branch.get("type") == "array":
            inner, _ = _record_inside(branch["items"])
            if inner is not None:
                return inner, True
    return None, False


def _parent(path: str) -> str | None:
    if "." not in path:
        return None
    head = path.rsplit(".", 1)[0]
    return head[:-2] if head.endswith("[]") else head


def field_fates(paths: list[str], transforms: dict[str, str]) -> list[tuple[str, str]]:
    """(path, what happens to it) for every field path, in schema order."""
    fates: list[tuple[str, str]] = []
    kept: set[str] = set()
    for path in paths:
        parent, listed = _parent(path), transforms.get(path)
        if parent is not None and parent not in kept:
            fates.append((path, f"withheld with {parent}"))
            continue
        if parent is not None and listed is None:
            action, fate = "keep", f"kept with {parent}"
        else:
            action = listed or "drop"
            fate = WHAT_HAPPENS.get(action, f"'{action}' (not a known transform)")
        if action == "keep":
            kept.add(path)
        fates.append((path, fate))
    return fates


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{what} file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} file {path} is not JSON (line {exc.lineno})") from None


def explain(
    event: dict[str, Any],
    recipient: str,
    purpose: str,
    date: str,
    subject: Any,
    opa_url: str,
) -> list[str]:
    """The plain-English explanation of one decision, as lines (no values from the event)."""
    from schemas.catalogue import default_catalogue
    from streams.gatekeeper.decision_input import decision_input

    envelope = event.get("envelope") or {}
    event_type = envelope.get("event_type")
    if not event_type:
        raise UserError(
            "the event has no envelope.event_type; give a source event with its envelope"
        )
    try:
        schema = default_catalogue().latest(event_type).schema
    except KeyError:
        raise UserError(f"event type '{event_type}' is not in schemas/avro") from None
    decision_in = decision_input(event_type, event, recipient, purpose, date, subject)

    async def ask():
        from streams.policy_client import PolicyClient

        client = PolicyClient(opa_url)
        try:
            return await client.decide(decision_in)
        finally:
            await client.close()

    decision = asyncio.run(ask())
    verdict = "ALLOWED" if decision.allow else "NOT ALLOWED"
    lines = [
        f"{verdict}: '{recipient}' receiving a '{event_type}' event for '{purpose}' on {date}",
        "",
        "Why:",
        *[f"  - {r}" for r in decision.reasons],
        "",
        f"Lawful basis: {decision.lawful_basis or 'none (the purpose is not registered)'}",
        f"Agreement:    {decision.agreement or 'none in force'}",
        f"Categories:   {', '.join(decision.data_categories) or 'none listed'}",
        f"Obligations:  {', '.join(sorted(decision.obligations)) or 'none'}",
        "",
    ]
    if decision.allow:
        ids = (
            "replaced by a pseudonym for this purpose"
            if "pseudonymise_subject" in decision.obligations
            else "released (NHS number, UPN, LA child id)"
        )
        lines += ["What the recipient receives:", f"  child's identifiers: {ids}"]
        paths = _field_paths(schema["fields"])
        width = max(len(p) for p in paths)
        lines += [f"  {p:<{width}}  {fate}" for p, fate in field_fates(paths, decision.transforms)]
    else:
        lines.append("Nothing from this event is shared with the recipient for this purpose.")
    lines += ["", f"Policy revision: {decision.revision}"]
    return lines


def subject_state(raw: Any) -> Any:
    from streams.gatekeeper.decision_input import SubjectState

    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - SUBJECT_KEYS:
        raise UserError(
            "the subject file must be a JSON object with preferences, "
            "safeguarding_concern and national_data_opt_out"
        )
    return SubjectState(
        preferences=list(raw.get("preferences") or []),
        safeguarding_concern=bool(raw.get("safeguarding_concern", False)),
        national_data_opt_out=bool(raw.get("national_data_opt_out", False)),
    )


def run_explain(args: argparse.Namespace, opa_url: str) -> int:
    """Run `chorus policy explain`; returns the exit code."""
    event = read_json(args.event, "event")
    if not isinstance(event, dict):
        raise UserError(f"event file {args.event} must hold one JSON object")
    subject = subject_state(read_json(args.subject, "subject") if args.subject else None)
    date = args.date or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise UserError(f"--date '{date}' is not YYYY-MM-DD") from None
    for line in explain(event, args.recipient, args.purpose, date, subject, opa_url):
        print(line)
    return EXIT_OK
