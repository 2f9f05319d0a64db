"""The only module that talks to OPA.

Asks the sharing policy for decisions, reads subscriptions and disclosure rules,
and tracks the policy revision. Decisions depend only on metadata, so they are
cached by (policy revision, decision input); the cache empties when the
revision changes.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from opa_client import AsyncOpaClient

SHARING_PACKAGE = "chorus.sharing"


class PolicyError(Exception):
    """OPA could not be asked, or answered something unusable."""


@dataclass(frozen=True)
class Decision:
    """The sharing policy's answer for one (event type, recipient, purpose, subject state).

    ``transforms`` maps field paths (``text``, ``items[].text``) to transforms;
    ``obligations`` are what the gatekeeper must do besides sharing
    (pseudonymise_subject, record_override, child_view_recorded,
    record_safeguarding_share); ``data_categories`` are the event's categories.
    """

    allow: bool
    reasons: tuple[str, ...]
    transforms: dict[str, str]
    lawful_basis: str | None
    obligations: frozenset[str]
    agreement: str | None
    revision: str
    data_categories: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    invalidations: int = 0


@dataclass
class PolicyClient:
    opa_url: str
    revision_poll_s: float = 5.0
    use_cache: bool = True
    stats: CacheStats = field(default_factory=CacheStats)

    def __post_init__(self) -> None:
        parsed = urlparse(self.opa_url)
        self._client = AsyncOpaClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8181,
            ssl=parsed.scheme == "https",
            timeout=5.0,
        )
        self._opened = False
        self._cache: dict[str, Decision] = {}
        self._revision = ""
        self._revision_checked = 0.0
        self._subscriptions: tuple[str, list[tuple[str, str]]] | None = None

    async def _session(self) -> AsyncOpaClient:
        if not self._opened:
            await self._client._init_session()  # the client's documented entry is `async with`
            self._opened = True
        return self._client

    async def close(self) -> None:
        if self._opened:
            await self._client.close_connection()
            self._opened = False

    async def _data(self, path: str) -> Any:
        client = await self._session()
        try:
            body = await client.get_data(path)
        except Exception as exc:
            raise PolicyError(f"OPA at {self.opa_url} did not answer for {path}: {exc}") from exc
        return body.get("result")

    async def revision(self) -> str:
        """The policy revision: the bundle revision, or a digest of policies and data."""
        now = time.monotonic()
        if self._revision and now - self._revision_checked < self.revision_poll_s:
            return self._revision
        client = await self._session()
        try:
            policies = await client.get_policies_list()
            data = await self._data("data")
        except PolicyError:
            raise
        except Exception as exc:
            raise PolicyError(f"OPA at {self.opa_url} did not answer: {exc}") from exc
        digest = hashlib.sha256(
            json.dumps([sorted(policies), data], sort_keys=True, default=str).encode()
        ).hexdigest()[:12]
        if digest != self._revision:
            if self._revision:
                self.stats.invalidations += 1
            self._cache.clear()
            self._revision = digest
        self._revision_checked = now
        return self._revision

    async def decide(self, decision_input: dict[str, Any]) -> Decision:
        revision = await self.revision()
        key = json.dumps(decision_input, sort_keys=True)
        if self.use_cache:
            hit = self._cache.get(key)
            if hit is not None:
                self.stats.hits += 1
                return hit
        self.stats.misses += 1
        client = await self._session()
        try:
            body = await client.query_rule(decision_input, SHARING_PACKAGE, "decision")
        except Exception as exc:
            raise PolicyError(f"OPA at {self.opa_url} did not decide: {exc}") from exc
        result = body.get("result")
        if not isinstance(result, dict) or "allow" not in result:
            raise PolicyError("OPA returned no decision; is policies/sharing loaded?")
        decision = Decision(
            allow=bool(result["allow"]),
            reasons=tuple(result.get("reasons") or ()),
            transforms=dict(result.get("transforms") or {}),
            lawful_basis=result.get("lawful_basis"),
            obligations=frozenset(result.get("obligations") or ()),
            agreement=result.get("agreement"),
            revision=revision,
            data_categories=tuple(result.get("data_categories") or ()),
        )
        if self.use_cache:
            self._cache[key] = decision
        return decision

    async def subscriptions(self) -> list[tuple[str, str]]:
        """(recipient, purpose) pairs the gatekeeper decides for, cached per policy revision."""
        revision = await self.revision()
        if self._subscriptions is None or self._subscriptions[0] != revision:
            subs = await self._data("chorus/sharing/subscriptions") or []
            pairs = sorted((s["recipient"], s["purpose"]) for s in subs)
            self._subscriptions = (revision, pairs)
        return self._subscriptions[1]

    async def disclosure_rules(self) -> dict[str, Any]:
        rules = await self._data("chorus/disclosure/rules")
        if not rules:
            raise PolicyError("OPA has no disclosure rules; is policies/disclosure loaded?")
        return rules
