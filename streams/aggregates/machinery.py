"""How every live aggregate is kept, so that replays and restarts never count twice.

1. The intake (intake.py) reads every strategic reporting share topic the
   aggregates need (and the ledger), in batches, decoding each event once, with
   aiokafka rather than a faust agent (faust's per-message stream could not keep
   up; intake.py says why). For each aggregate that reads the event, the child's
   current facts (engine.apply) are kept in memory and in the compacted
   ``<app>-<aggregate>-contributions-changelog``.
2. After each batch the changed children's contributions to the cells are
   recomputed from their facts and replace their old ones in the cells
   (cellstore.CellStore: each cell's summary of its members), kept in memory:
   applying a child's contributions twice changes nothing. The keys of new cells go
   to the compacted ``<app>-<aggregate>-cell-keys-changelog`` (a cell every member
   left is still published as zero after a restart). Offsets are committed only
   after the broker acknowledged both changelogs' entries. The cells need every child, so
   one aggregates worker of an app holds every input partition (a second one
   makes both wait, and says why).
3. On the publication cadence (ticks at fixed times, so a slow publication does
   not delay the next ones) the cells pass disclosure control (the rules are
   asked of OPA each time; no usable rules, no publication) and the cells whose
   published form changed go to the compacted ``chorus.agg.<aggregate>`` topic.

A child's withdrawal (``chorus.share.strategic_reporting.subject_withdrawn``)
is one more event of the child: the facts of the withdrawn event types are
dropped and later ones ignored, so the child leaves the cells at the next
publication. The intake applies one batch at a time, and publication reads the
cells between batches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from typing import Any

import faust
from aiokafka.errors import KafkaError

from schemas import topics as catalogue
from streams import internal_topics, metrics
from streams.aggregates import cellstore, engine, intake
from streams.context import StreamContext
from streams.disclosure import DisclosureError, Rules
from streams.policy_client import PolicyError

log = logging.getLogger(__name__)
_ENSURED: set[str] = set()


def record_keys(ctx: StreamContext, spec: engine.AggregateSpec):
    """Each member's secret record key for the cell key method (keyed; stable across restarts)."""

    @lru_cache(maxsize=1 << 20)
    def key(member: str) -> int:
        return engine.record_key(ctx.pseudonymiser, spec.name, member)

    return key


async def rules_now(ctx: StreamContext) -> Rules | None:
    """The disclosure rules in force, or None (logged) when there are none usable."""
    try:
        doc = await ctx.policy.disclosure_rules()
        return Rules.from_policy(doc, await ctx.policy.revision())
    except (PolicyError, DisclosureError) as exc:
        log.warning("no usable disclosure rules, publication skipped: %s", exc)
        return None


def register_all(
    app: faust.App, ctx: StreamContext, specs: Sequence[engine.AggregateSpec]
) -> list[intake.Held]:
    """Register the aggregates: one reader of all their input topics, their cells, publication."""
    prefix = ctx.settings.topic_prefix
    if any(s.withdrawals for s in specs):
        ensure_withdrawn_topic(
            ctx.settings.bootstrap_servers, prefix, ctx.settings.kafka_security.kafka_python()
        )
    held = [
        intake.Held(
            spec=spec,
            store=cellstore.CellStore(spec, record_keys(ctx, spec)),
            publisher=cellstore.Publisher(spec),
            states={},
        )
        for spec in specs
    ]
    outputs = {spec.name: catalogue.agg_topic(spec.name, prefix) for spec in specs}
    names = sorted({n for s in specs for n in engine.input_topics(s, prefix)})
    reader = intake.Intake(ctx, held, names, app.conf.topic_partitions)
    for name in reader.changelogs():
        internal_topics.declare(
            app,
            internal_topics.InternalTopic(
                name, app.conf.topic_partitions, {"cleanup.policy": "compact"}
            ),
        )
    metrics.add_lag_source(reader.lag)

    @app.task
    async def take_in() -> None:
        await reader.run_forever(lambda: app.should_stop)

    @app.task
    async def publish_on_cadence() -> None:
        # Ticks at fixed times (not the cadence after the last one ended, as app.timer
        # does): a publication taking a second does not push every later one back.
        async for _ in ticks(app, ctx.settings.publish_interval_s):
            await publish()

    async def publish() -> None:
        if not reader.ready:
            return
        rules = await rules_now(ctx)
        if rules is None:
            return
        now = dt.datetime.now(dt.UTC)
        sent: list[tuple[intake.Held, list[dict[str, Any]]]] = []
        acks: list[asyncio.Future] = []
        # Between two batches, every aggregate at once: the cells as one batch left them,
        # and a publication never waits behind batches (or they behind it) cell by cell.
        try:
            async with reader.lock:
                producer = reader.producer
                if not reader.ready or producer is None:
                    return
                for h in held:
                    changed = h.publisher.changed(h.store, rules, now)
                    for cell in changed:
                        value = ctx.codec.encode("platform.aggregate_cell", cell)
                        key = cell["cell_key"].encode()
                        acks.append(await producer.send(outputs[h.spec.name], value, key=key))
                    sent.append((h, changed))
            await asyncio.gather(*acks)
        except KafkaError as exc:  # Kafka down, or the intake starting again: the worker
            # goes on, and the next tick publishes every cell again
            log.warning("publication not acknowledged (%s); every cell goes again", exc)
            for h in held:
                h.publisher.forget()
            return
        for h, changed in sent:
            if changed:
                log.info("%s: published %d changed cells", h.spec.name, len(changed))
                metrics.record_sent(outputs[h.spec.name] for _ in changed)
            metrics.record_publication(h.spec.name, changed, time.time())

    return held


async def ticks(app: faust.App, interval: float) -> AsyncIterator[float]:
    """The times start + k * interval, each slept until (one missed while busy is skipped)."""
    due = time.monotonic()
    while not app.should_stop:
        due += interval
        now = time.monotonic()
        if due < now:
            due = now + interval - (now - due) % interval
        await asyncio.sleep(due - now)
        yield due


def ensure_withdrawn_topic(
    bootstrap: str, prefix: str, security: dict[str, Any] | None = None
) -> None:
    """Create the subject_withdrawn share topic if missing, partitioned like the share topics.

    The aggregates subscribe to it before the gatekeeper first writes to it, and a
    consumer does not see a topic created after it subscribed until its metadata
    is refreshed; the topic plan should list it (see the README).
    """
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    name = engine.withdrawn_topic(prefix)
    if name in _ENSURED:
        return
    _ENSURED.add(name)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=10_000, **(security or {})
        )
    except KafkaError as exc:
        log.warning("could not check topic %s: %s", name, type(exc).__name__)
        return
    try:
        if name not in admin.list_topics():
            admin.create_topics([NewTopic(name, catalogue.DEFAULT_PARTITIONS, 1)])
            log.info("created topic %s", name)
    except TopicAlreadyExistsError:
        pass
    except KafkaError as exc:
        log.warning("could not create topic %s: %s", name, type(exc).__name__)
    finally:
        admin.close()
