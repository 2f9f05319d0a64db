"""`/metrics` and `/health` on the worker's own web server (faust's, on `--web-port`).

`/metrics` is the Prometheus text format of the default registry, with the
worker's series read from faust and the policy client at that moment
(streams/metrics.py). `/health` answers 200 with a small JSON body when the
worker is doing its job: its consumer has partitions, its tables are recovered
and no rebalance is under way; 503, with the same body, otherwise.
"""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from streams import metrics
from streams.context import StreamContext


def register(app: faust.App, ctx: StreamContext) -> None:
    settings = ctx.settings
    metrics.WORKER.bind(app, ctx.policy, settings.topic_prefix)

    @app.page("/metrics", name="chorus-metrics")
    async def scrape(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        body = generate_latest(REGISTRY)
        return web.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/health", name="chorus-health")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        ok, body = worker_health(app, settings.roles)
        return web.json(body, status=200 if ok else 503)


def worker_health(app: Any, roles: tuple[str, ...]) -> tuple[bool, dict[str, Any]]:
    consumer = getattr(app, "_consumer", None)  # created when the worker starts consuming
    try:
        assigned = len(consumer.assignment()) if consumer is not None else 0
    except Exception:  # noqa: BLE001 - an assignment in flux reads as none
        assigned = 0
    recovered = app.tables.recovery.completed.is_set()
    rebalancing = bool(app.rebalancing)
    ok = assigned > 0 and recovered and not rebalancing
    if ok:
        status = "ok"
    elif not assigned:
        status = "starting: no partitions assigned yet"
    elif rebalancing:
        status = "rebalancing"
    else:
        status = "recovering tables"
    return ok, {
        "status": status,
        "app_id": app.conf.id,
        "roles": list(roles),
        "assigned_partitions": assigned,
        "tables_recovered": recovered,
        "rebalancing": rebalancing,
    }
