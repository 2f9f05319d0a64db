"""The gatekeeper agent: for each event and each subscription, ask the policy, share what
is allowed to chorus.share.<purpose>.<event>, and write every decision to the ledger.

It reads chorus.linked, where the identity agent has put every valid source event
with its internal person key (in a header).

It takes events in batches (``gatekeeper_batch``, or what arrived within
``gatekeeper_batch_s``), decides them one after another in offset order, then
queues the batch's messages in that same order (one record batch per partition, so
a child's events keep their order) and waits until the broker has acknowledged all
of them. Only then does faust acknowledge the batch's events, so a crash repeats
work but never loses it (at least once). Decisions are cached by the policy client;
the part of each decision input that is the same for every subscription is built,
and written out as the cache key, once per event.

No other code writes share topics (tests/integration/test_single_enforcement_point.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust
import faust.streams
from aiokafka.partitioner import DefaultPartitioner
from faust.exceptions import PartitionsMismatch

from schemas import topics as catalogue
from schemas.errors import ContractError
from schemas.share import share_event_type
from streams import metrics, topics
from streams.context import StreamContext
from streams.dead_letters import dead_letter
from streams.gatekeeper import withdrawals
from streams.gatekeeper.decision_input import decision_input
from streams.gatekeeper.sharing import ledger_entry, share_headers, shared_event
from streams.gatekeeper.subjects import PREFERENCE, subject_state, updated
from streams.identity.agent import PERSON_KEY_HEADER
from streams.policy_client import BypassPolicy, Decision, PolicyError

log = logging.getLogger(__name__)
MEMO_SIZE = 4096
STAGE = "gatekeeper"
LEDGER_PURPOSE = "ledger"  # key of the ledger's own subject pseudonyms
PRODUCER_BATCH_BYTES = 512 * 1024
TABLE_RETRIES = 30
PARTITIONER = DefaultPartitioner()  # the producer's own: murmur2 of the key, as Java's


@dataclass(frozen=True)
class Outgoing:
    """One message the gatekeeper will send: to a share topic, the ledger or its DLQ."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


Decide = Callable[[str, str], Awaitable[Decision]]  # (recipient, purpose) -> decision
ForEvent = Callable[[str, dict[str, Any], str, Any], Decide]


def register(app: faust.App, ctx: StreamContext) -> None:
    settings = ctx.settings
    prefix = settings.topic_prefix
    source = topics.linked_topic(app, prefix)
    ledger = catalogue.ledger_topic(prefix)
    dlq = catalogue.dlq_topic(STAGE, prefix)
    share_topics: dict[tuple[str, str], str] = {}
    subjects = app.Table("gatekeeper-subjects", default=None)  # person key -> wishes, concerns
    policy = ctx.policy
    policy.use_cache = settings.decision_cache
    # One event becomes a dozen messages (a ledger entry per subscription, its shares);
    # with faust's default 16 KB batches the producer's one request in flight carries
    # too few of them. The broker takes batches up to 1 MB (message.max.bytes).
    if app.producer.max_batch_size < PRODUCER_BATCH_BYTES:
        app.producer.max_batch_size = PRODUCER_BATCH_BYTES
    decider = _decider(ctx, settings.policy_mode)
    check_withdrawals = settings.policy_mode == "opa"  # no policy is asked when bypassed
    withdrawn_topic = withdrawals.withdrawn_topic(prefix)
    # Which event types a person's wishes withdraw is a function of the policy revision, the
    # day and their wishes as the policy sees them; people with the same wishes share it.
    memo: dict[tuple[str, str, tuple[str, ...], str], list[str]] = {}
    event_types = withdrawals.source_event_types()
    decided: Counter[tuple[str, bool]] = Counter()  # (purpose, allowed): counted per batch

    def share_for(purpose: str, event_type: str) -> str:
        name = share_topics.get((purpose, event_type))
        if name is None:
            event = event_type.split(".", 1)[1]
            name = share_topics[(purpose, event_type)] = catalogue.share_topic(
                purpose, event, prefix
            )
        return name

    def letter(event: faust.EventT, error: ContractError, **known: Any) -> Outgoing:
        msg = event.message
        log.warning(
            "dead-lettered %s[%d]@%d rule=%s field=%s",
            msg.topic,
            msg.partition,
            msg.offset,
            error.rule,
            error.field,
        )
        value = dead_letter(
            STAGE,
            error,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            payload=event.value,
            **known,
        )
        return Outgoing(dlq, msg.key, ctx.codec.encode("platform.dead_letter", value))

    async def withdraw(
        pkey: str, state: dict, env: dict, subs: list[tuple[str, str]], today: str, out: list
    ) -> dict:
        """Check what the person's wishes withdraw from strategic reporting; say so if changed."""
        recipients = [r for r, p in subs if p == withdrawals.PURPOSE]
        subject = subject_state(state)
        if not recipients or subject is None:
            return state

        async def ask(question: dict[str, Any]) -> Decision:
            return await with_policy(lambda: policy.decide(question))

        revision = await with_policy(policy.revision)
        memo_key = (revision, today, tuple(recipients), withdrawals.subject_key(today, subject))
        types = memo.get(memo_key) if settings.decision_cache else None
        if types is None:
            types = await withdrawals.withdrawn_types(ask, recipients, event_types, today, subject)
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[memo_key] = types
        pseudonym = ctx.pseudonymiser.pseudonym(withdrawals.PURPOSE, "person", pkey)
        restate = env["event_type"] == PREFERENCE
        result = withdrawals.withdrawal(
            state, types, today, env["event_time"], pseudonym, revision, restate
        )
        if result.message is not None:
            value = ctx.codec.encode(withdrawals.EVENT_TYPE, result.message)
            who = ",".join(recipients)
            headers = share_headers(env["event_id"], who, withdrawals.PURPOSE, revision)
            out.append(Outgoing(withdrawn_topic, pseudonym.encode(), value, list(headers.items())))
        return result.state

    async def handle(
        event: faust.EventT, subs: list[tuple[str, str]], today: str, out: list[Outgoing]
    ) -> None:
        """Decide one event for every subscription; append its messages to `out`."""
        try:
            schema, record = ctx.codec.decode(event.value)  # validated by the identity agent
        except ContractError as err:
            out.append(letter(event, err))
            return
        event_type = schema.event_type
        env = record["envelope"]
        pkey = person_key(event.message.headers)
        subject = None
        if pkey:
            state = subjects.get(pkey)
            new_state = updated(state, event_type, record)
            if new_state is not None:
                subjects[pkey] = state = new_state
            if check_withdrawals and withdrawals.needs_check(state, event_type, today):
                subjects[pkey] = state = await withdraw(pkey, state, env, subs, today, out)
            subject = subject_state(state)
        subject_ref = ctx.pseudonymiser.pseudonym(LEDGER_PURPOSE, "person", pkey) if pkey else None
        decide = decider(event_type, record, today, subject)
        event_id = env["event_id"]
        ledger_key = event_id.encode()
        for recipient, purpose in subs:
            decision = await decide(recipient, purpose)
            decided[purpose, decision.allow] += 1
            transformed: list[tuple[str, str]] = []
            withheld: list[str] = []
            target = None
            if decision.allow:
                try:
                    shared, transformed, withheld = shared_event(
                        record, decision, recipient, purpose, ctx.pseudonymiser, pkey
                    )
                    value = ctx.codec.encode(share_event_type(event_type), shared)
                except (ContractError, ValueError, TypeError) as err:
                    error = (
                        err
                        if isinstance(err, ContractError)
                        else ContractError(
                            "share.encode",
                            f"shared form does not fit its schema ({type(err).__name__})",
                        )
                    )
                    out.append(letter(event, error, event_type=event_type, event_id=event_id))
                    continue
                target = share_for(purpose, event_type)
                key = shared["share"]["person_pseudonym"] or shared["share"]["record_pseudonym"]
                headers = share_headers(event_id, recipient, purpose, decision.revision)
                out.append(Outgoing(target, key.encode(), value, list(headers.items())))
            entry = ledger_entry(
                record, decision, recipient, purpose, subject_ref, transformed, withheld, target
            )
            value = ctx.codec.encode("platform.ledger_entry", entry)
            out.append(Outgoing(ledger, ledger_key, value))

    async def decide_batch(events: list[faust.EventT]) -> list[Outgoing]:
        """Every message of a batch of events, in order. Nothing is sent yet, so a batch
        can be decided again: a table change already made changes nothing the second time."""
        for attempt in range(TABLE_RETRIES + 1):
            subs = await with_policy(policy.subscriptions)
            today = dt.datetime.now(dt.UTC).date().isoformat()
            out: list[Outgoing] = []
            try:
                for event in events:
                    as_current(event)
                    await handle(event, subs, today, out)
                return out
            except PartitionsMismatch:
                # Just after start-up, under load, the broker may not list the table's new
                # changelog topic yet; a crash here would leave the batch undecided.
                if attempt == TABLE_RETRIES:
                    raise
                decided.clear()  # decided again next attempt
                log.warning("gatekeeper: table changelog not in the metadata yet; retrying")
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    @app.agent(source, name="chorus.gatekeeper", concurrency=1)
    async def gatekeeper(stream: faust.StreamT) -> None:
        batches = stream.take_events(settings.gatekeeper_batch, within=settings.gatekeeper_batch_s)
        async for events in batches:
            out = await decide_batch(events)
            # Sent in order once the whole batch is decided, then the broker's acks awaited
            # together: only then does faust acknowledge the batch's events.
            await asyncio.gather(*await send_in_order(app.producer, out))
            metrics.record_decisions(decided)
            metrics.record_sent(m.topic for m in out)


async def send_in_order(producer: Any, out: list[Outgoing]) -> list[asyncio.Future]:
    """Queue `out` on the producer, in order within each partition; the delivery futures.

    With faust's aiokafka producer the messages go into one record batch per partition,
    chosen from the key as the producer itself would, once per key (an event's ledger
    entries share one); appending to a batch costs a fraction of a send per message.
    Any other transport: one send per message.
    """
    client = getattr(producer, "_ensure_producer", None)  # faust's aiokafka transport
    if client is None:
        return [await producer.send(m.topic, m.key, m.value, None, None, m.headers) for m in out]
    kafka = client()
    partitions: dict[str, list[int]] = {}
    chosen: dict[tuple[str, bytes | None], int] = {}
    batches: dict[tuple[str, int], Any] = {}
    sent: list[asyncio.Future] = []
    for m in out:
        partition = chosen.get((m.topic, m.key))
        if partition is None:
            if m.topic not in partitions:
                partitions[m.topic] = sorted(await kafka.partitions_for(m.topic))
            every = partitions[m.topic]
            partition = chosen[(m.topic, m.key)] = PARTITIONER(m.key, every, every)
        batch = batches.get((m.topic, partition))
        if batch is None:
            batch = batches[(m.topic, partition)] = kafka.create_batch()
        if batch.append(timestamp=None, key=m.key, value=m.value, headers=m.headers or []) is None:
            sent.append(await kafka.send_batch(batch, m.topic, partition=partition))
            batch = batches[(m.topic, partition)] = kafka.create_batch()
            batch.append(timestamp=None, key=m.key, value=m.value, headers=m.headers or [])
    for (topic, partition), batch in batches.items():
        sent.append(await kafka.send_batch(batch, topic, partition=partition))
    return sent


def _decider(ctx: StreamContext, mode: str) -> ForEvent:
    """How the gatekeeper asks for each subscription's decision on one event."""
    policy = ctx.policy
    if mode == "bypass":
        log.warning(
            "POLICY BYPASSED (benchmark only): no decision is asked per event; "
            "never run this anywhere but a benchmark"
        )
        bypass = BypassPolicy(policy)

        def bypassed(event_type, record, today, subject) -> Decide:
            async def decide(recipient: str, purpose: str) -> Decision:
                def build() -> dict[str, Any]:
                    return decision_input(event_type, record, recipient, purpose, today, subject)

                return await with_policy(
                    lambda: bypass.decide(event_type, recipient, purpose, build)
                )

            return decide

        return bypassed
    if mode != "opa":
        raise ValueError(f"policy_mode {mode!r}: use 'opa' or 'bypass'")

    def asked(event_type, record, today, subject) -> Decide:
        # Every subscription's input differs only in recipient and purpose, so the rest
        # is built (and written out as the cache key) once per event.
        base = decision_input(event_type, record, "", "", today, subject)
        base_key = json.dumps(base, sort_keys=True)

        async def decide(recipient: str, purpose: str) -> Decision:
            question = {**base, "recipient": recipient, "purpose": purpose}  # = decision_input()
            key = (recipient, purpose, base_key)
            return await with_policy(lambda: policy.decide(question, key))

        return decide

    return asked


async def with_policy(call):
    """Wait for OPA rather than lose or dead-letter events while it is away."""
    delay = 0.5
    while True:
        try:
            return await call()
        except PolicyError as exc:
            log.warning("policy unavailable, retrying in %.1fs: %s", delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


def as_current(event: faust.EventT) -> None:
    """Make `event` faust's current event in this task, as a plain `async for` over the
    stream would: a table change goes to the changelog partition of the current event.
    (Only this task's context changes; the stream's own buffering task is untouched.)"""
    faust.streams._current_event.set(weakref.ref(event))


def person_key(headers: object) -> str | None:
    """The internal person key the identity agent put in the message headers."""
    items = headers.items() if isinstance(headers, dict) else headers or []
    for name, value in items:
        if name == PERSON_KEY_HEADER:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
