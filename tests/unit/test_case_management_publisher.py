"""The publisher's failure path, which the runner's retry relies on (no Kafka needed)."""

import time

import pytest
from aiokafka.partitioner import DefaultPartitioner

from connectors.common.publisher import Message, Publisher, PublishError, partition_for


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


@pytest.mark.parametrize("count", [1, 3, 4, 12])
def test_a_key_goes_to_the_partition_aiokafkas_default_partitioner_chooses(count):
    partitions = list(range(count))
    keys = [b"", b"a", b"C0000001", b"x" * 37, bytes(range(256))]
    for key in keys:
        assert partition_for(key, partitions) == DefaultPartitioner()(key, partitions, partitions)


def test_a_message_without_key_goes_to_some_partition():
    assert {partition_for(None, [0, 1, 2]) for _ in range(50)} <= {0, 1, 2}
