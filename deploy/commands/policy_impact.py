"""`chorus policy impact --candidate DIR`: what a policy change would change, on real recent events.

Recent source events (the last N of each source topic, or those since a time) are
replayed through the current policies (the running OPA, or a policy folder in a
scratch OPA) and through the candidate folder (a scratch OPA of its own, on a free
port, stopped by its PID afterwards). Each decision input is built exactly as the
gatekeeper builds it (streams/gatekeeper/decision_input.py), with the child's
recorded wishes and concerns when the gatekeeper's state can be read. The report
says, per recipient and purpose, which records would newly be shared or no longer
be shared, and which fields would be added, removed or transformed differently,
with counts and the event ids affected. It never shows an event's values.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from deploy.commands.common import UserError
from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

WITHHELD = (None, "drop")


@dataclass(frozen=True)
class Replayed:
    event_type: str
    event_id: str
    record: dict[str, Any]


@dataclass
class Replay:
    events: list[Replayed] = field(default_factory=list)
    undecodable: int = 0
    topics: int = 0


def read_recent(
    bootstrap: str,
    topic_names: Iterable[str],
    *,
    last: int | None = None,
    since: dt.datetime | None = None,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> Replay:
    """The last `last` events of each topic, or every event since `since` (decoded)."""
    from schemas.codec import Codec
    from schemas.errors import ContractError

    codec = Codec()
    replay = Replay()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **security.kafka_python(),
    )
    try:
        for name in topic_names:
            parts = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or []]
            if not parts:
                continue
            replay.topics += 1
            consumer.assign(parts)
            begin, end = consumer.beginning_offsets(parts), consumer.end_offsets(parts)
            if since is not None:
                at = int(since.timestamp() * 1000)
                found = consumer.offsets_for_times({tp: at for tp in parts})
                start = {tp: (found[tp].offset if found.get(tp) else end[tp]) for tp in parts}
            else:
                start = {tp: max(begin[tp], end[tp] - (last or 0)) for tp in parts}
            for tp in parts:
                consumer.seek(tp, start[tp])
            records = []
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for tp, batch in consumer.poll(timeout_ms=2000).items():
                    records.extend(m for m in batch if m.offset < end[tp])
            records.sort(key=lambda m: (m.timestamp, m.partition, m.offset))
            if since is None and last is not None:
                records = records[-last:]
            for m in records:
                try:
                    schema, record = codec.decode(m.value)
                except ContractError:
                    replay.undecodable += 1
                    continue
                replay.events.append(
                    Replayed(schema.event_type, record["envelope"]["event_id"], record)
                )
    finally:
        consumer.close()
    return replay


@dataclass(frozen=True)
class ChangeKey:
    recipient: str
    purpose: str
    kind: str  # newly allowed, newly denied, field added, field removed, transform changed, ...
    field: str | None = None
    detail: str | None = None


def compare(current: Any, candidate: Any) -> list[ChangeKey]:
    """How the candidate's decision differs from the current one (None: not a subscription)."""
    allowed_now = current is not None and current.allow
    allowed_then = candidate is not None and candidate.allow
    if allowed_now != allowed_then:
        return [ChangeKey("", "", "newly allowed" if allowed_then else "newly denied")]
    if not allowed_now:
        return []
    changes = []
    now, then = current.transforms, candidate.transforms
    for name in sorted(set(now) | set(then)):
        a, b = now.get(name), then.get(name)
        if a == b or (a in WITHHELD and b in WITHHELD):
            continue
        if a in WITHHELD:
            changes.append(ChangeKey("", "", "field added", name, b))
        elif b in WITHHELD:
            changes.append(ChangeKey("", "", "field removed", name, f"was {a}"))
        else:
            changes.append(ChangeKey("", "", "transform changed", name, f"{a} -> {b}"))
    for obligation in sorted(candidate.obligations - current.obligations):
        changes.append(ChangeKey("", "", "obligation added", None, obligation))
    for obligation in sorted(current.obligations - candidate.obligations):
        changes.append(ChangeKey("", "", "obligation removed", None, obligation))
    return changes


@dataclass
class Impact:
    events: int
    decisions: int
    subscriptions: list[tuple[str, str]]
    current_revision: str
    candidate_revision: str
    date: str
    changes: dict[ChangeKey, list[str]]  # -> affected event ids, in replay order


async def _impact(
    replay: Replay,
    current_url: str,
    candidate_url: str,
    date: str,
    subjects: dict[str, Any],
) -> Impact:
    from streams.gatekeeper.decision_input import decision_input
    from streams.policy_client import PolicyClient

    current, candidate = PolicyClient(current_url), PolicyClient(candidate_url)
    try:
        subs_now = set(await current.subscriptions())
        subs_then = set(await candidate.subscriptions())
        subs = sorted(subs_now | subs_then)
        changes: dict[ChangeKey, dict[str, None]] = defaultdict(dict)  # ordered sets of ids
        decisions = 0
        for event in replay.events:
            subject = subjects.get(event.event_id)
            for recipient, purpose in subs:
                question = decision_input(
                    event.event_type, event.record, recipient, purpose, date, subject
                )
                now = await current.decide(question) if (recipient, purpose) in subs_now else None
                then = (
                    await candidate.decide(question) if (recipient, purpose) in subs_then else None
                )
                decisions += 1
                for change in compare(now, then):
                    key = ChangeKey(recipient, purpose, change.kind, change.field, change.detail)
                    changes[key][event.event_id] = None
        return Impact(
            events=len(replay.events),
            decisions=decisions,
            subscriptions=subs,
            current_revision=await current.revision(),
            candidate_revision=await candidate.revision(),
            date=date,
            changes={k: list(ids) for k, ids in changes.items()},
        )
    finally:
        await current.close()
        await candidate.close()


def subject_states(
    replay: Replay,
    bootstrap: str,
    key: bytes,
    identity_app_id: str,
    gatekeeper_app_id: str,
    security: KafkaSecurity = UNAUTHENTICATED,
) -> dict[str, Any]:
    """event id -> the gatekeeper's state of the child the event is about (as it is now)."""
    from streams.gatekeeper.subjects import subject_state
    from streams.identity.registry import ALIAS_KINDS, SINGLE_KINDS
    from streams.identity.tokens import tokens
    from streams.ledger.person import load_register, read_table
    from streams.pseudonyms import Pseudonymiser

    register = load_register(bootstrap, identity_app_id, security)
    subjects_topic = f"{gatekeeper_app_id}-gatekeeper-subjects-changelog"
    states = read_table(bootstrap, subjects_topic, security=security) or {}
    pseudonymiser = Pseudonymiser(key)
    out: dict[str, Any] = {}
    for event in replay.events:
        found = tokens(pseudonymiser, event.record)
        for kind in (*SINGLE_KINDS, *ALIAS_KINDS):
            person = register.canonical(register.links.get(found.get(kind, "")))
            if person:
                out[event.event_id] = subject_state(states.get(person))
                break
    return out


def impact(
    replay: Replay,
    current_url: str,
    candidate_url: str,
    date: str,
    subjects: dict[str, Any] | None = None,
) -> Impact:
    return asyncio.run(_impact(replay, current_url, candidate_url, date, subjects or {}))


def as_json(result: Impact) -> dict[str, Any]:
    return {
        "events": result.events,
        "decisions": result.decisions,
        "date": result.date,
        "current_revision": result.current_revision,
        "candidate_revision": result.candidate_revision,
        "changes": [
            {
                "recipient": k.recipient,
                "purpose": k.purpose,
                "change": k.kind,
                "field": k.field,
                "detail": k.detail,
                "count": len(ids),
                "event_ids": ids,
            }
            for k, ids in sorted(
                result.changes.items(),
                key=lambda kv: (kv[0].recipient, kv[0].purpose, kv[0].kind, kv[0].field or ""),
            )
        ],
    }


def report(result: Impact, current: str, candidate: str, show_ids: int) -> list[str]:
    lines = [
        f"policy impact: {result.events} recent events replayed for {len(result.subscriptions)} "
        f"subscriptions ({result.decisions} decisions compared), decided on {result.date}",
        f"  current:   {current} (revision {result.current_revision})",
        f"  candidate: {candidate} (revision {result.candidate_revision})",
    ]
    if not result.changes:
        return [*lines, "", "No decision would change."]
    by_sub: dict[tuple[str, str], list[tuple[ChangeKey, list[str]]]] = defaultdict(list)
    for key, ids in result.changes.items():
        by_sub[(key.recipient, key.purpose)].append((key, ids))
    for (recipient, purpose), items in sorted(by_sub.items()):
        records = {i for _, ids in items for i in ids}
        lines += ["", f"{recipient} / {purpose}: {len(records)} records affected"]
        for key, ids in sorted(items, key=lambda kv: (kv[0].kind, kv[0].field or "")):
            what = key.kind + (f" {key.field}" if key.field else "")
            what += f" ({key.detail})" if key.detail else ""
            shown = ", ".join(ids[:show_ids])
            more = f" and {len(ids) - show_ids} more" if len(ids) > show_ids else ""
            lines.append(f"  {what}: {len(ids)} records: {shown}{more}")
    return lines


def parse_since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--since '{text}' is not an ISO date or time (2026-06-01T09:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def run_impact(args: Any, opa_url: str, opa_binary: Path | None, env: Any = None) -> int:
    from deploy.local.opa import ScratchOpa
    from deploy.local.processes import StackError
    from schemas import topics

    if opa_binary is None or not opa_binary.exists():
        raise UserError("OPA is not installed; run `chorus stack install` first")
    if not args.candidate.is_dir():
        raise UserError(f"--candidate {args.candidate} is not a folder")
    bootstrap, prefix = args.bootstrap, args.topic_prefix
    security = UNAUTHENTICATED
    if env is not None:
        from deploy.commands.common import bootstrap as env_bootstrap
        from deploy.commands.common import kafka_security

        bootstrap = bootstrap or env_bootstrap(env)
        security = kafka_security(env)
        prefix = env.get("CHORUS_TOPIC_PREFIX") if prefix is None else prefix
    bootstrap, prefix = bootstrap or "127.0.0.1:9092", prefix or ""
    date = args.date or dt.date.today().isoformat()
    since = parse_since(args.since)
    names = [topics.source_topic(d, e, prefix) for d, e in topics.SOURCE_EVENTS]
    last = None if since else args.last
    replay = read_recent(bootstrap, names, last=last, since=since, security=security)
    subjects: dict[str, Any] = {}
    note = "the child's wishes and concerns: not read (no pseudonymisation key given)"
    if env is not None:
        from deploy.secrets import pseudonym_key

        try:
            subjects = subject_states(
                replay,
                bootstrap,
                pseudonym_key(env),
                args.identity_app_id,
                args.app_id,
                security,
            )
            note = f"the child's wishes and concerns: from {args.app_id}'s gatekeeper state"
        except LookupError as exc:
            note = f"the child's wishes and concerns: not read ({exc})"
    scratch_candidate = ScratchOpa(opa_binary, args.candidate.resolve())
    scratch_current = (
        ScratchOpa(opa_binary, args.current_dir.resolve()) if args.current_dir else None
    )
    try:
        candidate_url = scratch_candidate.start()
        current_url = scratch_current.start() if scratch_current else opa_url
        result = impact(replay, current_url, candidate_url, date, subjects)
    except StackError as exc:
        raise UserError(str(exc)) from None
    finally:
        scratch_candidate.stop()
        if scratch_current:
            scratch_current.stop()
    if args.json:
        print(json.dumps(as_json(result), indent=2))
        return 0
    current = f"{args.current_dir} (scratch OPA)" if args.current_dir else f"OPA at {opa_url}"
    for line in report(result, current, f"{args.candidate} (scratch OPA)", args.show_ids):
        print(line)
    print(f"  ({replay.topics} source topics read, {replay.undecodable} undecodable; {note})")
    return 0
