"""The dashboard's cell store and feed: latest cell per key, tombstones, metrics (no Kafka)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from deploy.dashboard.cells import CellStore, Changes, cell_id, to_json
from deploy.dashboard.feed import SUBSCRIBER_QUEUE, Feed, Hub, Metrics
from schemas.codec import Codec

WHEN = dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC)


def measure(name: str, value: float | None, **extra: Any) -> dict[str, Any]:
    out = {
        "name": name,
        "value": value,
        "status": "PUBLISHED" if value is not None else "SUPPRESSED",
        "note": None,
        "kind": "COUNT",
        "suppression": None if value is not None else "SMALL_COUNT",
        "denominator": None,
        "unit": None,
    }
    out.update(extra)
    return out


def cell(key: str, value: float | None, when: dt.datetime = WHEN, **extra: Any) -> dict[str, Any]:
    out = {
        "aggregate": "care_leavers",
        "cell_key": key,
        "table": "domain_ratings",
        "dimensions": {"period": "2025-H2", "area": "ALL", "domain": key.split("|")[-1]},
        "measures": [measure("young_people", value)],
        "publication": {
            "sequence": 1,
            "published_at": when,
            "rules": ["counts from 1 to 7 suppressed"],
            "policy_revision": None,
            "method": "cell_key",
            "parameters": {"round_to": 5.0},
        },
        "statements": [],
        "annotations": {},
    }
    out.update(extra)
    return out


def test_a_cell_becomes_json_with_an_id_and_a_utc_time():
    shown = to_json(cell("domain_ratings|2025-H2|ALL|FINANCE", 25.0))
    assert shown["id"] == "care_leavers/domain_ratings|2025-H2|ALL|FINANCE"
    assert shown["publication"]["published_at"] == "2026-03-01T12:00:05.000Z"
    assert shown["measures"][0]["value"] == 25.0


def test_the_latest_cell_per_key_is_kept_and_a_tombstone_removes_it():
    store = CellStore()
    changes = Changes()
    store.put("care_leavers", "k1", cell("k1", 10.0), changes)
    store.put("care_leavers", "k1", cell("k1", 15.0), changes)
    store.put("care_leavers", "k2", cell("k2", None), changes)
    assert store.cells[cell_id("care_leavers", "k1")]["measures"][0]["value"] == 15.0
    assert len(changes.upserts) == 2 and not changes.removed

    gone = Changes()
    store.put("care_leavers", "k1", None, gone)
    store.put("care_leavers", "never-held", None, gone)
    assert gone.removed == {cell_id("care_leavers", "k1")}
    assert list(store.cells) == [cell_id("care_leavers", "k2")]


def test_the_last_publication_is_the_newest_seen_whatever_the_order():
    store = CellStore()
    later = WHEN + dt.timedelta(milliseconds=500)
    store.put("care_leavers", "a", cell("a", 10.0, later), Changes())
    store.put("care_leavers", "b", cell("b", 10.0, WHEN), Changes())
    assert store.last_published == "2026-03-01T12:00:05.500Z"


def test_suppressed_cells_and_values_are_counted_per_aggregate():
    store = CellStore()
    two = cell("a", None, measures=[measure("x", None), measure("y", None), measure("z", 5.0)])
    store.put("care_leavers", "a", two, Changes())
    store.put("care_leavers", "b", cell("b", 20.0), Changes())
    cells, values = store.suppressed()
    assert cells["care_leavers"] == 1 and values["care_leavers"] == 2
    assert store.held()["care_leavers"] == 2


def test_feed_decodes_messages_counts_them_and_tells_subscribers():
    feed = Feed("127.0.0.1:1", ["care_leavers"], prefix="p.")
    queue = feed.hub.subscribe()
    codec = Codec()
    changes = Changes()
    value = codec.encode("platform.aggregate_cell", cell("k1", None))
    feed.apply("p.chorus.agg.care_leavers", 0, 0, b"k1", value, changes)
    feed.apply("p.chorus.agg.care_leavers", 0, 1, b"k1", b"\x00not avro", changes)
    feed.hub.publish(changes.as_event(feed.store.last_published))
    event = queue.get_nowait()
    assert [c["id"] for c in event["upserts"]] == ["care_leavers/k1"]
    m = feed.metrics
    topic = {"topic": "p.chorus.agg.care_leavers"}
    assert m.registry.get_sample_value("chorus_dashboard_messages_consumed_total", topic) == 2
    assert m.registry.get_sample_value("chorus_dashboard_messages_undecodable_total", topic) == 1
    assert m.registry.get_sample_value("chorus_dashboard_subscribers") == 1


def test_feed_is_unhealthy_until_its_consumer_is_assigned_and_polling():
    feed = Feed("127.0.0.1:1", ["care_leavers"])
    ok, body = feed.health()
    assert not ok and body["status"] == "unavailable" and body["problem"]
    feed.assigned, feed.last_poll = 1, time.monotonic()
    ok, body = feed.health()
    assert ok and body["status"] == "ok" and "problem" not in body


def test_a_subscriber_too_far_behind_is_dropped_and_told_to_reconnect():
    async def run() -> None:
        hub = Hub(Metrics())
        slow = hub.subscribe()
        for i in range(SUBSCRIBER_QUEUE + 1):
            hub.publish({"n": i})
        assert len(hub) == 0
        items = [slow.get_nowait() for _ in range(slow.qsize())]
        assert items[-1] is None

    asyncio.run(run())
