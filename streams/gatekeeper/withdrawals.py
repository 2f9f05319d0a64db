"""Telling strategic reporting that a person's wishes now stop it receiving their events.

When a child or family objects to strategic use, or withdraws a consent, the
gatekeeper stops sharing their new events (the policy denies them); the
aggregates must also drop what they already counted. So, after a change to the
person's recorded wishes (and again on the first event of each later day, as
preferences start and lapse), the gatekeeper asks the policy, for every event
type, whether strategic reporting could receive it for this person without
their preferences and whether it can with them. The event types that their
wishes now stop are published as a ``platform.subject_withdrawn`` message on
``chorus.share.strategic_reporting.subject_withdrawn``, keyed by the person's
strategic reporting pseudonym, whenever that list changes (an empty list lifts
an earlier withdrawal). Only the gatekeeper writes it (agent.py sends it).

The list and when it was last checked are kept in the person's gatekeeper state
(``strategic_withdrawal``: types, effective_at in ms, checked day).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from schemas import topics
from streams.gatekeeper.decision_input import SubjectState, decision_input
from streams.gatekeeper.subjects import PREFERENCE
from streams.policy_client import Decision

PURPOSE = "strategic_reporting"
EVENT_TYPE = "platform.subject_withdrawn"
TOPIC_EVENT = "subject_withdrawn"
STATE_KEY = "strategic_withdrawal"
EVERYTHING = "*"
#: Consents a voice event may carry, assumed given, so that only the person's wishes differ.
CONSENTED = {"consent_for_reports": {"strategic_reporting": True, "verbatim_quotes": True}}

Ask = Callable[[dict[str, Any]], Awaitable[Decision]]


def source_event_types() -> list[str]:
    """Every event type a connector may publish (the gatekeeper decides each of them)."""
    return [f"{domain}.{event}" for domain, event in topics.SOURCE_EVENTS]


def withdrawn_topic(prefix: str = "") -> str:
    return topics.share_topic(PURPOSE, TOPIC_EVENT, prefix)


def needs_check(state: dict[str, Any] | None, event_type: str, day: str) -> bool:
    """Whether to ask again which event types the person's wishes withdraw: on every
    preference event (so a batch decided again says it again), then once a day."""
    if not state:
        return False
    if event_type == PREFERENCE:
        return True
    last = state.get(STATE_KEY) or {}
    return bool(state.get("preferences") or last.get("types")) and last.get("checked") != day


async def withdrawn_types(
    ask: Ask,
    recipients: Iterable[str],
    event_types: Iterable[str],
    day: str,
    subject: SubjectState,
) -> list[str]:
    """The event types strategic reporting could receive for the person but for their wishes.

    An event type counts when some strategic reporting recipient could receive it
    without the person's preferences and none can with them. ``["*"]`` when that is
    every event type strategic reporting could receive.
    """
    without = SubjectState([], subject.safeguarding_concern, subject.national_data_opt_out)
    pairs = [(e, r) for e in event_types for r in recipients]
    # The questions are independent: asked together, over the client's connection pool,
    # they cost one round trip's wait instead of one per event type (about 60 a check).
    could = await asyncio.gather(*(ask(_question(e, r, day, without)) for e, r in pairs))
    open_pairs = [pair for pair, d in zip(pairs, could, strict=True) if d.allow]
    can = await asyncio.gather(*(ask(_question(e, r, day, subject)) for e, r in open_pairs))
    receivable = {e for e, _ in open_pairs}
    withdrawn = receivable - {e for (e, _), d in zip(open_pairs, can, strict=True) if d.allow}
    if withdrawn and withdrawn == receivable:
        return [EVERYTHING]
    return sorted(withdrawn)


def subject_key(day: str, subject: SubjectState) -> str:
    """The person's wishes as the policy sees them on ``day`` (equal for equal wishes)."""
    seen = decision_input("", {}, "", PURPOSE, day, subject)["subject"]
    return json.dumps(seen, sort_keys=True, default=str)


def _question(event_type: str, recipient: str, day: str, subject: SubjectState) -> dict[str, Any]:
    return decision_input(event_type, CONSENTED, recipient, PURPOSE, day, subject)


@dataclass(frozen=True)
class Withdrawal:
    """The person's new gatekeeper state, and the message to publish (None: nothing changed)."""

    state: dict[str, Any]
    message: dict[str, Any] | None


def withdrawal(
    state: dict[str, Any],
    types: list[str],
    day: str,
    when: dt.datetime,
    person_pseudonym: str,
    revision: str,
    restate: bool = False,
) -> Withdrawal:
    """Record the check; a message when the withdrawn event types changed, or when
    `restate` (a preference event) and any are or were withdrawn."""
    last = state.get(STATE_KEY) or {}
    before = last.get("types") or []
    at_ms = int(when.timestamp() * 1000)
    if types != before:
        at_ms = max(at_ms, int(last.get("at") or 0) + 1)  # never older than the one before
    else:
        at_ms = int(last.get("at") or 0)
    new_state = {**state, STATE_KEY: {"types": types, "at": at_ms, "checked": day}}
    if types == before and not (restate and types):
        return Withdrawal(new_state, None)
    message = {
        "person_pseudonym": person_pseudonym,
        "event_types": types,
        "effective_at": dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC),
        "policy_revision": revision,
        "record_pseudonyms": [],
    }
    return Withdrawal(new_state, message)
