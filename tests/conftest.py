"""Integration tests run against the real stack started by `chorus stack up`.

They never skip: when Kafka or OPA does not answer, every test fails and says
how to start them. Each test works in its own topic namespace (a fresh prefix),
so runs never see each other's events.
"""

from __future__ import annotations

import os

import pytest

from tests.integration.harness import Stack, wait_for_stack


@pytest.fixture(scope="session")
def stack() -> Stack:
    stack = Stack(
        bootstrap=os.environ.get("CHORUS_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
        opa_url=os.environ.get("CHORUS_OPA_URL") or "http://127.0.0.1:8181",
    )
    problem = wait_for_stack(stack, deadline_s=30)
    if problem:
        pytest.fail(f"{problem}. Start the stack with `chorus stack up` (or `make test`).")
    return stack


@pytest.fixture
def namespace(stack: Stack):
    ns = stack.namespace()
    yield ns
    ns.stop_processes()
    ns.delete_topics()
