"""The dashboard's web server (aiohttp).

Routes:

- ``/``: the page (``static/index.html``; plain HTML, CSS and JavaScript drawing SVG,
  no build step, nothing fetched from the internet);
- ``/static/...``: its script and style sheet;
- ``/events``: server-sent events: ``snapshot`` (every cell held) when a browser connects,
  then ``update`` (cells added or replaced, ids removed) after each batch from Kafka;
- ``/cells``: the same snapshot as JSON;
- ``/metrics``: Prometheus metrics (messages consumed per topic, connected subscribers,
  cells held, suppressed cells shown);
- ``/health``: 200 when the Kafka consumer is assigned and polling, 503 otherwise (JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from deploy.dashboard.feed import Feed

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
HEARTBEAT_S = 15.0
FEED = web.AppKey("feed", Feed)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def cells(request: web.Request) -> web.Response:
    return web.json_response(request.app[FEED].store.snapshot())


async def health(request: web.Request) -> web.Response:
    ok, body = request.app[FEED].health()
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[FEED].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: a snapshot, then every change, until the browser goes away."""
    feed = request.app[FEED]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    # Subscribing and taking the snapshot happen without yielding to the event loop,
    # so no change falls between them.
    queue = feed.hub.subscribe()
    snapshot = _sse("snapshot", feed.store.snapshot())
    try:
        await response.write(b"retry: 2000\n\n" + snapshot)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event is None:  # fell too far behind: the browser reconnects for a snapshot
                break
            await response.write(_sse("update", event))
    except ConnectionResetError:
        pass  # the browser went away
    finally:
        feed.hub.unsubscribe(queue)
    return response


def make_app(feed: Feed) -> web.Application:
    """The web application around a feed; the feed runs while the app runs."""
    app = web.Application()
    app[FEED] = feed
    app.router.add_get("/", index)
    app.router.add_get("/cells", cells)
    app.router.add_get("/events", events)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    app.router.add_static("/static", STATIC)
    app.cleanup_ctx.append(_run_feed)
    return app


async def _run_feed(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[FEED].run(), name="dashboard-feed")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def serve(feed: Feed, host: str, port: int) -> None:
    """Serve until interrupted."""
    log.info("dashboard: http://%s:%d/ (aggregates: %s)", host, port, ", ".join(feed.aggregates))
    web.run_app(make_app(feed), host=host, port=port, print=None, shutdown_timeout=2.0)
