"""Server mode against a tiny FHIR-like HTTP server on 127.0.0.1 (a test double of a remote system).

The double answers the two searches the connector makes (review Encounters and
Communications) with ``_lastUpdated=gt``, ``_sort``, ``_count``, ``_include`` and
``_revinclude``, pages through ``Bundle.link[next]``, counts with
``_summary=count``, and checks the auth header. The integration test uses it too.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.common.base import SourceUnavailable
from connectors.common.settings import COMMON_SETTINGS, ConfigError, load_settings
from connectors.health import examples as fx
from connectors.health.connector import FhirConnector
from connectors.health.mapping import COMMENT, REVIEW

TOKEN = "Bearer synthetic-test-token"  # noqa: S105 - a test double's credential


def _when(r: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(r["meta"]["lastUpdated"])


def _tokens(value: Any) -> set[str]:
    return {
        f"{c.get('system')}|{c.get('code')}" for cc in value or [] for c in cc.get("coding", [])
    }


class FhirDouble:
    """An in-memory FHIR server: resources by type and id, searched as the connector searches."""

    def __init__(self, resources: list[dict[str, Any]], token: str | None = TOKEN) -> None:
        self.store: dict[tuple[str, str], dict[str, Any]] = {}
        self.token = token
        self.requests: list[str] = []
        for r in resources:
            self.put(r)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def put(self, resource: dict[str, Any]) -> None:
        self.store[(resource["resourceType"], resource["id"])] = resource

    def __enter__(self) -> FhirDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                double.requests.append(self.path)
                if double.token and self.headers.get("Authorization") != double.token:
                    return self._send(401, {"resourceType": "OperationOutcome"})
                url = urllib.parse.urlsplit(self.path)
                kind = url.path.removeprefix("/fhir/")
                if kind == "metadata":
                    return self._send(
                        200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
                    )
                return self._send(200, double.search(kind, urllib.parse.parse_qsl(url.query)))

            def _send(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def search(self, kind: str, query: list[tuple[str, str]]) -> dict[str, Any]:
        params: dict[str, list[str]] = {}
        for k, v in query:
            params.setdefault(k, []).append(v)
        found = [r for (t, _), r in self.store.items() if t == kind]
        for name, element in (("type", "type"), ("category", "category")):
            if name in params:
                wanted = set(params[name][0].split(","))
                found = [r for r in found if _tokens(r.get(element)) & wanted]
        for bound in params.get("_lastUpdated", []):
            after = dt.datetime.fromisoformat(bound[2:])
            found = [
                r for r in found if _when(r) > after or (bound[:2] == "ge" and _when(r) == after)
            ]
        found.sort(key=lambda r: (_when(r), r["id"]))
        if params.get("_summary") == ["count"]:
            return {"resourceType": "Bundle", "type": "searchset", "total": len(found)}
        count, offset = int(params.get("_count", ["50"])[0]), int(params.get("_offset", ["0"])[0])
        page = found[offset : offset + count]
        entries = [self._entry(r, "match") for r in page]
        for r in page:
            entries += [self._entry(x, "include") for x in self._related(r, params)]
        doc: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        if offset + count < len(found):
            nxt = [(k, v) for k, v in query if k != "_offset"] + [("_offset", str(offset + count))]
            doc["link"] = [
                {"relation": "next", "url": f"{self.base}/{kind}?{urllib.parse.urlencode(nxt)}"}
            ]
        return doc

    def _entry(self, r: dict[str, Any], mode: str) -> dict[str, Any]:
        url = f"{self.base}/{r['resourceType']}/{r['id']}"
        return {"fullUrl": url, "resource": r, "search": {"mode": mode}}

    def _related(self, r: dict[str, Any], params: dict[str, list[str]]) -> list[dict[str, Any]]:
        out = []
        for inc in params.get("_include", []):
            ref = (r.get(inc.split(":")[1]) or {}).get("reference", "")
            kind, _, rid = ref.partition("/")
            if (kind, rid) in self.store:
                out.append(self.store[(kind, rid)])
        for rev in params.get("_revinclude", []):
            kind, element = rev.split(":")
            target = f"{r['resourceType']}/{r['id']}"
            out += [
                x
                for (t, _), x in self.store.items()
                if t == kind and (x.get(element) or {}).get("reference") == target
            ]
        return out


def server_connector(
    base: str, environ: dict[str, str] | None = None, **extra: Any
) -> FhirConnector:
    raw = {"connector": "health_fhir", "name": "hv-server", "la_code": "999", "source": "server",
           "base_url": base, "auth_header_env": "HV_TOKEN", "page_size": 3, **extra}  # fmt: skip
    settings = load_settings(COMMON_SETTINGS + FhirConnector.SETTINGS, raw, "test")
    return FhirConnector(settings, environ={"HV_TOKEN": TOKEN} if environ is None else environ)


def reviews(
    n: int, stamp: str = "2025-02-10T12:00:00+00:00", tag: str = ""
) -> list[dict[str, Any]]:
    """`n` children's reviews and comments, all last updated at the same instant."""
    areas = {d: (45.0, "ABOVE") for d in fx.c.ASQ3_DOMAINS}
    out: list[dict[str, Any]] = []
    for i in range(n):
        pid, eid = f"p{tag}{i}", f"e{tag}{i}"
        out += [
            fx.patient(pid, "2022-11-15", None, stamp=stamp),
            fx.review_encounter(eid, pid, "2025-02-10T10:00:00Z", stamp=stamp),
        ]
        out += fx.review_observations(
            eid, pid, "2025-02-10T10:00:00Z", fx.Results("I27", areas), stamp=stamp
        )
        out.append(
            fx.parent_comment(
                f"c{tag}{i}", pid, eid, "2025-02-10T10:00:00Z", "Synthetic words.", stamp=stamp
            )
        )
    return out


def drain(connector: FhirConnector, position: dict[str, Any] | None, limit: int):
    """Read until idle, passing the position through JSON as the runner stores it."""
    events: list[dict[str, Any]] = []
    while (batch := connector.read(position, limit)) is not None:
        events += [i.record for i in batch.items]
        position = json.loads(json.dumps(batch.position))
    return events, position


def test_server_mode_reads_every_review_and_comment_once_across_pages_of_one_timestamp():
    with FhirDouble(reviews(7)) as server:
        connector = server_connector(server.base)
        assert connector.check_source() == []
        assert connector.lag(None) == 14
        events, position = drain(connector, None, limit=2)
        kinds = [e["envelope"]["event_type"] for e in events]
        assert (kinds.count(REVIEW), kinds.count(COMMENT)) == (7, 7)
        assert len({e["envelope"]["event_id"] for e in events}) == 14
        assert connector.lag(position) == 0
        later = fx.parent_comment(
            "c99",
            "p1",
            "e1",
            "2025-03-01T09:00:00Z",
            "More words.",
            stamp="2025-03-01T09:05:00+00:00",
        )
        server.put(later)
        assert connector.lag(position) == 1
        events, _ = drain(connector, position, limit=2)
        assert [e["comment_id"] for e in events] == ["c99"]
        assert any("_lastUpdated=gt2025-02-10T12%3A00%3A00%2B00%3A00" in r for r in server.requests)


def test_a_restart_between_batches_publishes_nothing_twice():
    resources = [r for d in range(3) for r in reviews(3, f"2025-02-1{d}T12:00:00+00:00", f"d{d}-")]
    with FhirDouble(resources) as server:
        first = server_connector(server.base)
        batch = first.read(None, 4)
        seen = [i.record["envelope"]["event_id"] for i in batch.items]
        rest, _ = drain(
            server_connector(server.base), json.loads(json.dumps(batch.position)), limit=4
        )
        seen += [e["envelope"]["event_id"] for e in rest]
        assert len(seen) == len(set(seen)) == 18


def test_wrong_credential_is_reported_and_retried_not_crashed():
    with FhirDouble(reviews(1)) as server:
        connector = server_connector(server.base, environ={"HV_TOKEN": "Bearer wrong"})
        problems = connector.check_source()
        assert problems and "401" in problems[0] and "wrong" not in problems[0]
        with pytest.raises(SourceUnavailable):
            connector.read(None, 10)


def test_missing_credential_variable_is_a_configuration_problem():
    with pytest.raises(ConfigError, match="HV_TOKEN"):
        server_connector("http://127.0.0.1:9/fhir", environ={})


def test_unreachable_server_is_unavailable():
    with FhirDouble([]) as server:
        base = server.base
    connector = server_connector(base)
    with pytest.raises(SourceUnavailable):
        connector.read(None, 10)
