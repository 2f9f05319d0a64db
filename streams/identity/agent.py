"""The identity agent: every source event gets its internal person key, then goes to the gatekeeper.

It reads every source topic, checks the event against the contract (bad input
goes to chorus.dlq.identity), links the event's identifiers in the registry
(faust tables, so a restarted worker recovers them from their changelogs),
publishes data-quality findings to chorus.quality, and forwards the event's
bytes unchanged to chorus.linked, keyed by person, with the person key and the
source coordinates in headers.

The registry must see every identifier, so the identity agent runs in one
worker at a time (`chorus worker --roles identity` with its own app id); the
gatekeeper and aggregates scale out behind it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import faust

from schemas.errors import ContractError
from schemas.validation import DOMAINS, validate
from streams import topics
from streams.context import StreamContext
from streams.dead_letters import dead_letter
from streams.identity.registry import Finding, IdentityRegistry
from streams.identity.tokens import date_of_birth_token, tokens

log = logging.getLogger(__name__)
STAGE = "identity"
QUALITY_PURPOSE = "quality"  # key of the pseudonyms that group findings about one child
FINDING_NAMESPACE = uuid.UUID("c1f0a8a4-6f55-4c52-9e3e-1d8f0b1c7a90")
PERSON_KEY_HEADER = "chorus-person-key"


def register(app: faust.App, ctx: StreamContext) -> None:
    prefix = ctx.settings.topic_prefix
    source = topics.source_topics(app, prefix)
    linked = topics.linked_topic(app, prefix)
    quality = topics.quality_topic(app, prefix)
    dlq = topics.dlq_topic(app, STAGE, prefix)
    registry = IdentityRegistry(
        app.Table("identity-links", default=None), app.Table("identity-persons", default=None)
    )

    def ref(person: str | None) -> str | None:
        return ctx.pseudonymiser.pseudonym(QUALITY_PURPOSE, "person", person) if person else None

    def finding(record: dict, f: Finding, person: str | None, msg) -> dict:
        env = record["envelope"]
        return {
            "finding_id": str(uuid.uuid5(FINDING_NAMESPACE, f"{env['event_id']}|{f.rule}")),
            "stage": STAGE,
            "rule": f.rule,
            "severity": f.severity,
            "field": f.field,
            "reason": f.reason,
            "event_id": env["event_id"],
            "event_type": env["event_type"],
            "source": env["source_record"],
            "kafka": {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset},
            "person_ref": ref(person),
            "other_person_ref": ref(f.other_person),
            "detected_at": dt.datetime.now(dt.UTC),
        }

    async def reject(event: faust.EventT, err: ContractError) -> None:
        msg = event.message
        letter = dead_letter(
            STAGE,
            err,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            payload=event.value,
        )
        log.warning(
            "dead-lettered %s[%d]@%d rule=%s field=%s",
            msg.topic,
            msg.partition,
            msg.offset,
            err.rule,
            err.field,
        )
        await dlq.send(key=msg.key, value=ctx.codec.encode("platform.dead_letter", letter))

    async def link(event: faust.EventT, record: dict) -> None:
        msg = event.message
        env = record["envelope"]
        resolution = registry.resolve(
            tokens(ctx.pseudonymiser, record),
            source=env["source_instance"],
            dob_token=date_of_birth_token(ctx.pseudonymiser, record),
        )
        person = resolution.person_key
        for f in resolution.findings:
            log.info("identity finding %s in event %s", f.rule, env["event_id"])
            await quality.send(
                key=env["event_id"].encode(),
                value=ctx.codec.encode(
                    "platform.data_quality_finding", finding(record, f, person, msg)
                ),
            )
        headers = {
            "chorus-source-topic": msg.topic.encode(),
            "chorus-source-partition": str(msg.partition).encode(),
            "chorus-source-offset": str(msg.offset).encode(),
        }
        if person:
            headers[PERSON_KEY_HEADER] = person.encode()
        await linked.send(
            key=(person or env["event_id"]).encode(), value=event.value, headers=headers
        )

    @app.agent(source, name="chorus.identity", concurrency=1)
    async def identity(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                schema, record = ctx.codec.decode(event.value)
                source_event(schema.event_type)
                validate(schema.event_type, record)  # the rules Avro cannot express
            except ContractError as err:
                await reject(event, err)
                continue
            try:
                await link(event, record)
            except Exception as exc:  # noqa: BLE001 - never lose an event to a fault here
                # Only the exception's type: its text could quote a value.
                log.error("identity stage failed on an event (%s)", type(exc).__name__)
                error = ContractError(
                    "identity.processing_error",
                    f"the identity stage failed on this event ({type(exc).__name__}); "
                    "it is kept here to be replayed once the fault is fixed",
                )
                await reject(event, error)


def source_event(event_type: str) -> None:
    """Only source events belong on source topics (not, say, a replayed platform record)."""
    if event_type.split(".", 1)[0] not in DOMAINS:
        raise ContractError(
            "validation.unknown_event_type",
            "this kind of event does not belong on a source topic",
            "envelope.event_type",
        )
