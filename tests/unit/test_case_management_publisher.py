"""The publisher's failure path, which the runner's retry relies on (no Kafka needed)."""

import time

import pytest

from connectors.common.publisher import Message, Publisher, PublishError


def test_an_unreachable_broker_is_a_publish_error_the_runner_retries():
    publisher = Publisher("127.0.0.1:1", "chorus-test")
    started = time.monotonic()
    try:
        with pytest.raises(PublishError, match="not reachable"):
            publisher.publish([Message("t", None, b"v")], timeout_s=20)
        assert time.monotonic() - started < 15
    finally:
        publisher.close()


def test_an_empty_batch_needs_no_broker():
    publisher = Publisher("127.0.0.1:1", "chorus-test")
    try:
        assert publisher.publish([]) == 0
    finally:
        publisher.close()
