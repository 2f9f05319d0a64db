"""`chorus agg tail NAME`: print an aggregate's published cells as a table as they arrive."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from kafka import KafkaConsumer

from schemas import topics
from schemas.codec import Codec


def format_cell(cell: dict[str, Any]) -> str:
    dims = "  ".join(f"{v:<8}" for v in cell["dimensions"].values())
    parts = []
    for m in cell["measures"]:
        shown = "suppressed" if m["status"] == "SUPPRESSED" else f"{m['value']:.0f}"
        parts.append(f"{m['name']}={shown:<10}")
    published = cell["publication"]["published_at"].astimezone(dt.UTC).strftime("%H:%M:%S")
    return f"{dims}  {'  '.join(parts)}  published {published}"


def tail(
    bootstrap: str,
    name: str,
    idle_timeout_s: float | None = None,
    out: TextIO = sys.stdout,
    on_cell: Callable[[dict[str, Any]], None] | None = None,
    prefix: str = "",
) -> dict[str, dict[str, Any]]:
    """Read chorus.agg.<name> from the beginning; return the latest cell per key when idle."""
    topic = topics.agg_topic(name, prefix)
    codec = Codec()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    cells: dict[str, dict[str, Any]] = {}
    header_done = False
    last_seen = time.monotonic()
    try:
        while idle_timeout_s is None or time.monotonic() - last_seen < idle_timeout_s:
            for msg in consumer:
                _, cell = codec.decode(msg.value)
                cells[cell["cell_key"]] = cell
                last_seen = time.monotonic()
                if not header_done:
                    print("  ".join(f"{d:<8}" for d in cell["dimensions"]) + "  measures", file=out)
                    header_done = True
                print(format_cell(cell), file=out, flush=True)
                if on_cell:
                    on_cell(cell)
    finally:
        consumer.close()
    return cells
