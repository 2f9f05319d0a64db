"""Decision inputs and the policy client's cache, as the gatekeeper and `policy impact` use them.

- The gatekeeper builds one input per event and adds each subscription's recipient and
  purpose; that must be exactly what decision_input() builds (impact uses the latter).
- The policy client's cache empties when the revision changes, a pushed revision is
  reported only while OPA holds what was pushed, and no answer is taken mid-push.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket

import pytest
from aiohttp import web

from schemas.examples.case_management import EXAMPLES as CASE_MANAGEMENT
from schemas.examples.consent import EXAMPLES as CONSENT
from schemas.examples.voice import EXAMPLES as VOICE
from streams.gatekeeper.decision_input import SubjectState, decision_input
from streams.policy_client import (
    PUSHED,
    PUSHING,
    REVISION_MARKER,
    PolicyClient,
    PolicyError,
    content_digest,
)

SUBS = [("la_performance_team", "strategic_reporting"), ("dfe", "statutory_return")]
PREF = CONSENT["consent.sharing_preference_recorded"]


@pytest.mark.parametrize(
    "event_type,record",
    [
        ("case_management.referral", CASE_MANAGEMENT["case_management.referral"]),
        ("voice.statement_recorded", VOICE["voice.statement_recorded"]),
    ],
)
@pytest.mark.parametrize(
    "subject",
    [
        None,
        SubjectState(),
        SubjectState([copy.deepcopy(PREF), {**PREF, "decision": "ALLOW"}], True, True),
    ],
)
def test_the_gatekeepers_per_event_input_is_decision_inputs_for_every_subscription(
    event_type, record, subject
):
    base = decision_input(event_type, record, "", "", "2026-06-01", subject)
    for recipient, purpose in SUBS:
        gatekeeper = {**base, "recipient": recipient, "purpose": purpose}
        expected = decision_input(event_type, record, recipient, purpose, "2026-06-01", subject)
        assert json.dumps(gatekeeper, sort_keys=True) == json.dumps(expected, sort_keys=True)


class FakeOpa:
    """Just enough of OPA's REST API for the policy client."""

    def __init__(self) -> None:
        self.policies = [{"id": "p/sharing.rego", "raw": "package chorus.sharing"}]
        self.data = {"data": {"purposes": {"strategic_reporting": {}}}}
        self.allow = True
        self.queries = 0

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        if path == "/v1/policies":
            return web.json_response({"result": self.policies})
        if path == "/v1/data/":
            return web.json_response({"result": self.data})
        if path.startswith("/v1/data/"):
            key = path.removeprefix("/v1/data/")
            return web.json_response({"result": self.data[key]} if key in self.data else {})
        if path == "/v1/query":
            self.queries += 1
            body = await request.json()
            marker = [self.data[REVISION_MARKER]] if REVISION_MARKER in self.data else []
            if "subscriptions" in body["query"]:
                value = [{"recipient": "r", "purpose": "p"}]
            else:
                value = {"allow": self.allow, "reasons": ["because"], "transforms": {}}
            return web.json_response({"result": [{"r": [value], "m": marker}]})
        return web.json_response({}, status=404)


def run_with_fake(scenario) -> None:
    async def main() -> None:
        fake = FakeOpa()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", fake.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        client = PolicyClient(f"http://127.0.0.1:{port}", revision_poll_s=0)
        try:
            await scenario(fake, client)
        finally:
            await client.close()
            await runner.cleanup()

    asyncio.run(main())


QUESTION = {"event_type": "e", "purpose": "p", "recipient": "r", "date": "2026-06-01"}


def test_the_cache_empties_when_the_revision_changes():
    async def scenario(fake: FakeOpa, client: PolicyClient) -> None:
        first = await client.decide(QUESTION)
        assert (await client.decide(QUESTION)) is first  # a cache hit
        assert (client.stats.hits, client.stats.misses) == (1, 1)
        fake.allow = False
        fake.data["data"]["purposes"]["research"] = {}  # the content changes: a new revision
        second = await client.decide(QUESTION)
        assert second.allow is False and second.revision != first.revision
        assert client.stats.invalidations == 1 and client.stats.misses == 2

    run_with_fake(scenario)


def test_a_pushed_revision_is_reported_only_while_opa_holds_what_was_pushed():
    async def scenario(fake: FakeOpa, client: PolicyClient) -> None:
        digest = content_digest(fake.policies, fake.data)
        fake.data[REVISION_MARKER] = {"state": PUSHED, "revision": "abc-2026", "digest": digest}
        assert await client.current_revision() == "abc-2026"
        fake.policies = [{"id": "p/sharing.rego", "raw": "package chorus.sharing # edited"}]
        assert await client.current_revision() != "abc-2026"

    run_with_fake(scenario)


def test_no_answer_is_taken_while_a_push_is_under_way():
    async def scenario(fake: FakeOpa, client: PolicyClient) -> None:
        fake.data[REVISION_MARKER] = {"state": PUSHING, "revision": "r2"}
        with pytest.raises(PolicyError, match="under way"):
            await client.decide(QUESTION)
        with pytest.raises(PolicyError, match="under way"):
            await client.subscriptions()

    run_with_fake(scenario)


def test_without_the_cache_every_decision_asks_opa():
    async def scenario(fake: FakeOpa, client: PolicyClient) -> None:
        client.use_cache = False
        for _ in range(3):
            await client.decide(QUESTION)
        assert fake.queries == 3 and client.stats.hits == 0

    run_with_fake(scenario)
