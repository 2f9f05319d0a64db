"""Server mode: FHIR R4 search over HTTP, polled by ``_lastUpdated`` (no Kafka here).

Plain ``urllib`` from the standard library: the connector needs one GET with a
few search parameters and paging through ``Bundle.link[next]``, which a FHIR
client library (fhirpy, fhirclient) would wrap without making simpler, at the
cost of more dependencies. Paging links are followed only on the base URL's own
scheme, host and port, so the credential is never sent elsewhere.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from connectors.common.base import SourceUnavailable

USER_AGENT = "chorus-health-connector"


class ServerError(Exception):
    """The server answered, but not with what FHIR search promises (a client-side problem)."""


class FhirServer:
    def __init__(
        self,
        base_url: str,
        auth: tuple[str, str] | None,
        timeout_s: float,
        ca_file: str = "",
    ) -> None:
        self.base = base_url.rstrip("/")
        self.auth = auth
        self.timeout_s = timeout_s
        self._origin = urllib.parse.urlsplit(self.base)[:2]
        self._ssl = ssl.create_default_context(cafile=ca_file or None)

    def _url(self, path: str, params: list[tuple[str, str]] | None = None) -> str:
        query = urllib.parse.urlencode(params or [])
        return f"{self.base}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def get(self, url: str) -> dict[str, Any]:
        if urllib.parse.urlsplit(url)[:2] != self._origin:
            raise ServerError("a paging link points outside the server's base URL")
        headers = {"Accept": "application/fhir+json", "User-Agent": USER_AGENT}
        if self.auth:
            headers[self.auth[0]] = self.auth[1]
        request = urllib.request.Request(url, headers=headers)
        context = self._ssl if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=context) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 429) or exc.code >= 500:
                raise SourceUnavailable(f"FHIR server answered HTTP {exc.code}") from None
            raise ServerError(f"FHIR server answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SourceUnavailable(f"FHIR server unreachable ({type(exc).__name__})") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise ServerError("FHIR server answered with something that is not JSON") from None
        if not isinstance(doc, dict):
            raise ServerError("FHIR server answered with JSON that is not a resource")
        return doc

    def search(self, resource_type: str, params: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """Each page (a searchset Bundle) of a search, following next links."""
        url: str | None = self._url(resource_type, params)
        while url:
            page = self.get(url)
            if page.get("resourceType") != "Bundle":
                raise ServerError(f"a {resource_type} search did not answer with a Bundle")
            yield page
            url = next(
                (
                    link.get("url")
                    for link in page.get("link") or []
                    if isinstance(link, dict) and link.get("relation") == "next"
                ),
                None,
            )

    def count(self, resource_type: str, params: list[tuple[str, str]]) -> int:
        page = self.get(self._url(resource_type, [*params, ("_summary", "count")]))
        total = page.get("total")
        if not isinstance(total, int):
            raise ServerError(f"a {resource_type} count search gave no total")
        return total

    def check(self) -> list[str]:
        try:
            doc = self.get(self._url("metadata"))
        except (SourceUnavailable, ServerError) as exc:
            return [f"FHIR server at {self.base}: {exc}"]
        if doc.get("resourceType") != "CapabilityStatement":
            return [f"FHIR server at {self.base}: /metadata is not a CapabilityStatement"]
        if not str(doc.get("fhirVersion", "4.0")).startswith("4."):
            return [
                f"FHIR server at {self.base}: not FHIR R4 (fhirVersion {doc.get('fhirVersion')})"
            ]
        return []
