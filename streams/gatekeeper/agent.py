"""The gatekeeper agent: for each event and each subscription, ask the policy, share what
is allowed to chorus.share.<purpose>.<event>, and write every decision to the ledger.

It reads chorus.linked, where the identity agent has put every valid source event
with its internal person key (in a header).

No other code writes share topics (a test checks this).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import faust

from schemas import topics as catalogue
from schemas.errors import ContractError
from schemas.share import share_event_type
from streams import topics
from streams.context import StreamContext
from streams.dead_letters import dead_letter
from streams.gatekeeper.decision_input import decision_input
from streams.gatekeeper.sharing import ledger_entry, shared_event
from streams.gatekeeper.subjects import subject_state, updated
from streams.identity.agent import PERSON_KEY_HEADER
from streams.policy_client import PolicyError

log = logging.getLogger(__name__)
STAGE = "gatekeeper"
LEDGER_PURPOSE = "ledger"  # key of the ledger's own subject pseudonyms


def register(app: faust.App, ctx: StreamContext) -> None:
    prefix = ctx.settings.topic_prefix
    source = topics.linked_topic(app, prefix)
    ledger = topics.ledger_topic(app, prefix)
    dlq = topics.dlq_topic(app, STAGE, prefix)
    share_topics: dict[str, faust.TopicT] = {}
    subjects = app.Table("gatekeeper-subjects", default=None)  # person key -> wishes, concerns

    def share_for(purpose: str, event_type: str) -> faust.TopicT:
        domain, event = event_type.split(".", 1)
        name = catalogue.share_topic(purpose, event, prefix)
        if name not in share_topics:
            share_topics[name] = topics.share_topic(app, purpose, event, prefix)
        return share_topics[name]

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

    async def send_dead_letter(event: faust.EventT, error: ContractError, **known) -> None:
        msg = event.message
        letter = dead_letter(
            STAGE,
            error,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            payload=event.value,
            **known,
        )
        log.warning(
            "dead-lettered %s[%d]@%d rule=%s field=%s",
            msg.topic,
            msg.partition,
            msg.offset,
            error.rule,
            error.field,
        )
        await dlq.send(key=msg.key, value=ctx.codec.encode("platform.dead_letter", letter))

    @app.agent(source, name="chorus.gatekeeper", concurrency=1)
    async def gatekeeper(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                schema, record = ctx.codec.decode(event.value)  # validated by the identity agent
            except ContractError as err:
                await send_dead_letter(event, err)
                continue
            env = record["envelope"]
            subs = await with_policy(ctx.policy.subscriptions)
            today = dt.datetime.now(dt.UTC).date().isoformat()
            pkey = person_key(event.message.headers)
            state = subjects.get(pkey) if pkey else None
            new_state = updated(state, schema.event_type, record) if pkey else None
            if new_state is not None:
                subjects[pkey] = state = new_state
            subject = subject_state(state)
            subject_ref = (
                ctx.pseudonymiser.pseudonym(LEDGER_PURPOSE, "person", pkey) if pkey else None
            )
            for recipient, purpose in subs:
                question = decision_input(
                    schema.event_type, record, recipient, purpose, today, subject
                )
                decision = await with_policy(lambda i=question: ctx.policy.decide(i))
                transformed: list[tuple[str, str]] = []
                withheld: list[str] = []
                target = None
                if decision.allow:
                    try:
                        shared, transformed, withheld = shared_event(
                            record, decision, recipient, purpose, ctx.pseudonymiser, pkey
                        )
                        value = ctx.codec.encode(share_event_type(schema.event_type), shared)
                    except (ContractError, ValueError, TypeError) as err:
                        error = (
                            err
                            if isinstance(err, ContractError)
                            else ContractError(
                                "share.encode",
                                f"shared form does not fit its schema ({type(err).__name__})",
                            )
                        )
                        await send_dead_letter(
                            event, error, event_type=schema.event_type, event_id=env["event_id"]
                        )
                        continue
                    topic = share_for(purpose, schema.event_type)
                    target = topic.get_topic_name()
                    headers = {
                        "chorus-purpose": purpose.encode(),
                        "chorus-recipient": recipient.encode(),
                        "chorus-policy-revision": decision.revision.encode(),
                    }
                    key = shared["share"]["person_pseudonym"] or shared["share"]["record_pseudonym"]
                    await topic.send(key=key.encode(), value=value, headers=headers)
                entry = ledger_entry(
                    record, decision, recipient, purpose, subject_ref, transformed, withheld, target
                )
                await ledger.send(
                    key=env["event_id"].encode(),
                    value=ctx.codec.encode("platform.ledger_entry", entry),
                )


def person_key(headers: object) -> str | None:
    """The internal person key the identity agent put in the message headers."""
    items = headers.items() if isinstance(headers, dict) else headers or []
    for name, value in items:
        if name == PERSON_KEY_HEADER:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
