"""`/metrics` and `/health` on one port, for the processes that are not faust workers.

`chorus connector run`, `chorus ledger sink` and `chorus agg sink` start this with
`--metrics-port N`. `/metrics` is prometheus_client's own WSGI app over the default
registry; `/health` answers 200 with a small JSON body while the process does its
job, 503 (with the same body saying what is wrong) otherwise. The server runs in
daemon threads, so it never keeps a stopping process alive. (The worker serves the
same two paths on faust's web server: streams/web.py.)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app

log = logging.getLogger(__name__)
Health = tuple[bool, dict[str, Any]]  # (doing its job, what to say about it)
DEFAULT_HOST = "127.0.0.1"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Scrapes every few seconds would drown the process's own log."""


def health_response(health: Callable[[], Health]) -> tuple[str, bytes]:
    """(HTTP status line, JSON body) for a health check; a failing check is a 503."""
    try:
        ok, body = health()
    except Exception as exc:  # noqa: BLE001 - a broken check is an unhealthy process
        ok, body = False, {"status": "unavailable", "error": type(exc).__name__}
    status = "200 OK" if ok else "503 Service Unavailable"
    return status, json.dumps(body, sort_keys=True).encode()


def wsgi_app(health: Callable[[], Health]) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            status, body = health_response(health)
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        if path == "/metrics":
            return metrics(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"/metrics or /health\n"]

    return app


class Endpoint:
    """A running `/metrics` + `/health` server; `close()` stops it."""

    def __init__(self, port: int, health: Callable[[], Health], host: str = DEFAULT_HOST):
        self.server = make_server(
            host, port, wsgi_app(health), server_class=_Server, handler_class=_QuietHandler
        )
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="metrics-endpoint", daemon=True
        )
        self.thread.start()
        log.info("metrics and health on http://%s:%d/metrics and /health", host, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(port: int, health: Callable[[], Health], host: str = DEFAULT_HOST) -> Endpoint | None:
    """Start the endpoint on `port` (0: none, and None is returned)."""
    return Endpoint(port, health, host) if port else None


def add_metrics_host_argument(parser: Any) -> None:
    """`--metrics-host`: the address the `--metrics-port` endpoint listens on."""
    parser.add_argument(
        "--metrics-host",
        default=DEFAULT_HOST,
        help=f"address of the metrics and health endpoint (default {DEFAULT_HOST}; "
        "0.0.0.0 in a container, so that Prometheus can scrape it)",
    )
