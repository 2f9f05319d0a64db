"""The only module that talks to OPA.

Asks the sharing policy for decisions, reads subscriptions and disclosure rules,
and tracks the policy revision. Decisions depend only on metadata, so they are
cached by (policy revision, decision input); the cache empties when the
revision changes.

The revision, checked every ``revision_poll_s`` seconds, is, in order:

1. the revisions of the bundles OPA activated (``data.system.bundles``: an OPA
   loading signed bundles, as in production);
2. the revision ``chorus policy push`` recorded (``data.chorus_policy_revision``)
   when what OPA holds is still exactly what was pushed (the content digest
   matches); a push writes that record last, after the policies and data;
3. otherwise a digest of what OPA holds: every policy's text and the data
   (the local stack's OPA reloading ``policies/`` as files change).

A push loads policies and data in several steps. Every answer this client takes from
OPA (a decision, the subscriptions, the disclosure rules) is read in one query together
with the push record, from one consistent view of OPA's store; while the record says a
push is under way the answer is refused (PolicyError, so the gatekeeper waits), so no
decision is ever made by half-loaded policies. When a finished push appears, the
revision is checked at once rather than at the next poll.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

SHARING_PACKAGE = "chorus.sharing"
#: Top-level data key where `chorus policy push` records the revision it loads. While a
#: push is under way it says so (state "pushing"), and no answer is taken from OPA then.
REVISION_MARKER = "chorus_policy_revision"
PUSHING, PUSHED = "pushing", "pushed"
#: The revision written in the ledger and share headers when no policy was asked.
BYPASS_REVISION = "BYPASS-NO-POLICY-benchmark-only"


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


def decision_from_result(result: Any, revision: str) -> Decision:
    """A Decision from OPA's ``chorus.sharing.decision`` document."""
    if not isinstance(result, dict) or "allow" not in result:
        raise PolicyError("OPA returned no decision; is policies/sharing loaded?")
    return Decision(
        allow=bool(result["allow"]),
        reasons=tuple(result.get("reasons") or ()),
        transforms=dict(result.get("transforms") or {}),
        lawful_basis=result.get("lawful_basis"),
        obligations=frozenset(result.get("obligations") or ()),
        agreement=result.get("agreement"),
        revision=revision,
        data_categories=tuple(result.get("data_categories") or ()),
    )


def content_digest(policies: list[dict[str, Any]], data: Any) -> str:
    """A digest of what OPA holds: each policy's id and text, and the data (marker left out)."""
    texts = sorted((p.get("id", ""), p.get("raw", "")) for p in policies)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != REVISION_MARKER}
    blob = json.dumps([texts, data], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass
class PolicyClient:
    opa_url: str
    revision_poll_s: float = 5.0
    use_cache: bool = True
    timeout_s: float = 5.0
    stats: CacheStats = field(default_factory=CacheStats)

    def __post_init__(self) -> None:
        self._base = self.opa_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._cache: dict[Hashable, Decision] = {}
        self._revision = ""
        self._revision_checked = 0.0
        self._subscriptions: tuple[str, list[tuple[str, str]]] | None = None
        self._marker_seen: str | None = None

    # --- HTTP -------------------------------------------------------------------------

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(limit=8),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        session = await self._http()
        url = f"{self._base}/v1/{path}"
        try:
            async with session.request(method, url, json=body) as resp:
                # orjson: the policies' listing carries their syntax trees (about 0.5 MB),
                # read at every revision check; orjson parses it in about 2/3 of the time
                answer = await resp.json(content_type=None, loads=orjson.loads)
                if resp.status != 200:
                    message = (answer or {}).get("message", "") if isinstance(answer, dict) else ""
                    raise PolicyError(
                        f"OPA at {self.opa_url} answered {resp.status} for {path}: {message}"
                    )
                return answer if isinstance(answer, dict) else {}
        except PolicyError:
            raise
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise PolicyError(
                f"OPA at {self.opa_url} did not answer for {path}: {type(exc).__name__} {exc}"
            ) from exc

    async def _data(self, path: str) -> Any:
        """The document at ``data/<path>``, or None when it is undefined."""
        return (await self._call("GET", f"data/{path}")).get("result")

    async def _consistent(self, ref: str, decision_input: Any = None) -> Any:
        """The document `ref` (a Rego reference), read with the push record in one view.

        None when `ref` is undefined; PolicyError while a push is under way.
        """
        body: dict[str, Any] = {
            "query": f"r := [x | x := {ref}]; m := [y | y := data.{REVISION_MARKER}]"
        }
        if decision_input is not None:
            body["input"] = decision_input
        rows = (await self._call("POST", "query", body)).get("result") or [{}]
        row = rows[0]
        marker = (row.get("m") or [None])[0]
        if isinstance(marker, dict):
            if marker.get("state") == PUSHING:
                raise PolicyError(
                    f"a policy push (revision {marker.get('revision')}) is under way in OPA at "
                    f"{self.opa_url}; waiting until it has finished (if no push is running, "
                    "one failed half way: run `chorus policy push` again)"
                )
            if marker.get("revision") != self._marker_seen:
                self._marker_seen = marker.get("revision")
                self._revision_checked = 0.0  # a new push: check the revision now
        return (row.get("r") or [None])[0]

    # --- revision ---------------------------------------------------------------------

    async def content_digest(self) -> str:
        """The digest of every policy's text and the data OPA holds now."""
        policies = (await self._call("GET", "policies")).get("result") or []
        data = await self._data("")
        return content_digest(policies, data)

    async def current_revision(self) -> str:
        """Ask OPA for the revision now (see the module's docstring), without caching."""
        bundles = await self._data("system/bundles")
        if isinstance(bundles, dict) and bundles:
            revisions = sorted(
                str((b.get("manifest") or {}).get("revision") or "")
                for b in bundles.values()
                if isinstance(b, dict)
            )
            if any(revisions):
                return "+".join(revisions)
        digest = await self.content_digest()
        marker = await self._data(REVISION_MARKER)
        if isinstance(marker, dict) and marker.get("state") == PUSHED:
            self._marker_seen = marker.get("revision")
        if (
            isinstance(marker, dict)
            and marker.get("state") == PUSHED
            and marker.get("digest") == digest
            and marker.get("revision")
        ):
            return str(marker["revision"])
        return digest

    async def revision(self) -> str:
        """The policy revision, checked at most every ``revision_poll_s`` seconds.

        When it changes, the decision cache and the subscriptions are forgotten.
        """
        now = time.monotonic()
        if self._revision and now - self._revision_checked < self.revision_poll_s:
            return self._revision
        revision = await self.current_revision()
        if revision != self._revision:
            if self._revision:
                self.stats.invalidations += 1
            self._cache.clear()
            self._subscriptions = None
            self._revision = revision
        self._revision_checked = time.monotonic()
        return self._revision

    # --- decisions --------------------------------------------------------------------

    async def decide(self, decision_input: dict[str, Any], key: Hashable = None) -> Decision:
        """The policy's decision for one input.

        ``key``, when given, must identify the input exactly (the gatekeeper builds it
        from the parts it builds the input from); otherwise it is the input's JSON.
        """
        revision = await self.revision()
        if self.use_cache:
            if key is None:
                key = json.dumps(decision_input, sort_keys=True)
            hit = self._cache.get(key)
            if hit is not None:
                self.stats.hits += 1
                return hit
        self.stats.misses += 1
        result = await self._consistent(f"data.{SHARING_PACKAGE}.decision", decision_input)
        if not self._revision_checked:  # a push finished since the revision was checked
            revision = await self.revision()
            result = await self._consistent(f"data.{SHARING_PACKAGE}.decision", decision_input)
        decision = decision_from_result(result, revision)
        if self.use_cache:
            self._cache[key] = decision
        return decision

    async def subscriptions(self) -> list[tuple[str, str]]:
        """(recipient, purpose) pairs the gatekeeper decides for, cached per policy revision."""
        revision = await self.revision()
        if self._subscriptions is None or self._subscriptions[0] != revision:
            subs = await self._consistent(f"data.{SHARING_PACKAGE}.subscriptions")
            if not self._revision_checked:  # a push finished since the revision was checked
                return await self.subscriptions()
            if subs is None:
                raise PolicyError("OPA lists no subscriptions; is policies/sharing loaded?")
            pairs = sorted((s["recipient"], s["purpose"]) for s in subs)
            self._subscriptions = (revision, pairs)
        return self._subscriptions[1]

    async def disclosure_rules(self) -> dict[str, Any]:
        rules = await self._consistent("data.chorus.disclosure.rules")
        if not rules:
            raise PolicyError("OPA has no disclosure rules; is policies/disclosure loaded?")
        return rules


class BypassPolicy:
    """BENCHMARK ONLY: the gatekeeper's pipeline with the policy call removed.

    The first answer for each (event type, recipient, purpose) is reused for every
    later event, whatever the child's wishes, concerns or the day, and labelled
    ``BYPASS-NO-POLICY-benchmark-only`` in the ledger and share headers. It exists to
    measure what asking the policy costs; it must never run in production (the
    `chorus worker` command refuses it there).
    """

    def __init__(self, client: PolicyClient) -> None:
        self.client = client
        self._fixed: dict[tuple[str, str, str], Decision] = {}

    async def decide(self, event_type: str, recipient: str, purpose: str, build) -> Decision:
        key = (event_type, recipient, purpose)
        fixed = self._fixed.get(key)
        if fixed is None:
            real = await self.client.decide(build())
            fixed = self._fixed[key] = Decision(
                allow=real.allow,
                reasons=real.reasons,
                transforms=real.transforms,
                lawful_basis=real.lawful_basis,
                obligations=real.obligations,
                agreement=real.agreement,
                revision=BYPASS_REVISION,
                data_categories=real.data_categories,
            )
        return fixed
