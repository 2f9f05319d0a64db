"""How every live aggregate is kept, so that replays and restarts never count twice.

1. ``contributions`` (keyed by the shared record's pseudonym, on the share
   topic's partitions) holds the cells each record currently counts in. On each
   event the new cells are computed; for a cell left, a ``remove`` delta is sent
   and its delivery awaited before the table changes; for each current cell an
   ``add`` delta is sent (again on replay: adding is idempotent).
2. The deltas are re-keyed by cell onto an internal topic, so each cell lives on
   one partition. ``cells`` (keyed by cell) holds the set of member records: one
   table write per delta, so a cell is always consistent with its members.
3. On a cadence, each cell's count passes disclosure control and changed cells
   are published to the compacted ``chorus.agg.<name>`` topic.

A record is a source record (a referral, a review), so an update that moves it
to another cell moves its one contribution, and a purge removes it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust

from schemas import topics as catalogue
from schemas.errors import ContractError
from streams import topics
from streams.context import StreamContext
from streams.dead_letters import dead_letter
from streams.disclosure import publish_count, rules_text

log = logging.getLogger(__name__)
PURPOSE = "strategic_reporting"
MEMBER_CHARS = 16  # of the 32-character record pseudonym: collisions are negligible per cell


@dataclass(frozen=True)
class AggregateSpec:
    name: str
    events: Sequence[str]  # event names shared for strategic reporting, e.g. ("referral",)
    dimensions: Sequence[str]
    measure: str
    cells_of: Callable[[dict[str, Any]], list[tuple[str, ...]]]

    def input_topics(self, prefix: str = "") -> list[str]:
        return [catalogue.share_topic(PURPOSE, e, prefix) for e in self.events]


def cell_key(values: tuple[str, ...]) -> str:
    return "|".join(values)


def register(app: faust.App, ctx: StreamContext, spec: AggregateSpec) -> None:
    prefix = ctx.settings.topic_prefix
    source = topics.raw_topic(app, *spec.input_topics(prefix))
    deltas = app.topic(
        f"{ctx.settings.app_id}-{spec.name}-deltas",
        internal=True,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    output = topics.agg_topic(app, spec.name, prefix)
    dlq = topics.dlq_topic(app, "aggregate", prefix)
    contributions = app.Table(f"{spec.name}-contributions", default=None)
    cells = app.Table(f"{spec.name}-cells", default=None)
    published: dict[str, tuple[Any, ...]] = {}

    async def send_delta(op: str, cell: str, member: str):
        body = json.dumps({"op": op, "cell": cell, "member": member}).encode()
        return await deltas.send(key=cell.encode(), value=body)

    @app.agent(source, name=f"chorus.agg.{spec.name}.contributions", concurrency=1)
    async def contribute(stream: faust.StreamT) -> None:
        async for event in stream.events():
            msg = event.message
            try:
                _, record = ctx.codec.decode(event.value)
                share = record["share"]
                member = share["record_pseudonym"][:MEMBER_CHARS]
                new = [] if share["operation"] == "PURGE" else spec.cells_of(record)
                new_keys = sorted({cell_key(c) for c in new})
            except (ContractError, KeyError, TypeError, ValueError) as err:
                error = (
                    err
                    if isinstance(err, ContractError)
                    else ContractError(
                        "aggregate.input",
                        f"shared event lacks what {spec.name} needs ({type(err).__name__})",
                    )
                )
                letter = dead_letter(
                    "aggregate",
                    error,
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    payload=event.value,
                )
                await dlq.send(key=msg.key, value=ctx.codec.encode("platform.dead_letter", letter))
                continue
            old_keys = contributions.get(member) or []
            removed = [k for k in old_keys if k not in new_keys]
            for k in removed:
                # wait for the broker before forgetting the old cell, or a crash could lose it
                await (await send_delta("remove", k, member))
            for k in new_keys:
                await send_delta("add", k, member)
            if old_keys != new_keys:
                contributions[member] = new_keys

    @app.agent(deltas, name=f"chorus.agg.{spec.name}.cells", concurrency=1)
    async def count(stream: faust.StreamT) -> None:
        async for value in stream:
            delta = json.loads(value)
            members: dict[str, int] = dict(cells.get(delta["cell"]) or {})
            if delta["op"] == "add" and delta["member"] not in members:
                members[delta["member"]] = 1
            elif delta["op"] == "remove" and delta["member"] in members:
                del members[delta["member"]]
            else:
                continue  # a replayed delta: nothing changes
            cells[delta["cell"]] = members

    @app.timer(interval=ctx.settings.publish_interval_s)
    async def publish() -> None:
        if not app.tables.recovery.completed.is_set():
            return
        try:
            rules = await ctx.policy.disclosure_rules()
        except Exception as exc:  # publish nothing rather than publish unchecked cells
            log.warning("%s: no disclosure rules, publication skipped: %s", spec.name, exc)
            return
        now = dt.datetime.now(dt.UTC)
        publication = {
            "sequence": int(now.timestamp() * 1000),
            "published_at": now,
            "rules": rules_text(rules),
        }
        sent = 0
        for key, members in list(cells.items()):
            measure = publish_count(spec.measure, len(members or {}), rules)
            shown = (measure["value"], measure["status"], tuple(publication["rules"]))
            if published.get(key) == shown:
                continue
            cell = {
                "aggregate": spec.name,
                "cell_key": key,
                "dimensions": dict(zip(spec.dimensions, key.split("|"), strict=True)),
                "measures": [measure],
                "publication": publication,
            }
            await output.send(
                key=key.encode(), value=ctx.codec.encode("platform.aggregate_cell", cell)
            )
            published[key] = shown
            sent += 1
        if sent:
            log.info("%s: published %d changed cells", spec.name, sent)
