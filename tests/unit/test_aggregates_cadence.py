"""The publication cadence keeps to fixed times, whatever a publication costs."""

from __future__ import annotations

import asyncio
import time
import types

from streams.aggregates.machinery import ticks


def test_a_slow_publication_does_not_push_later_ones_back():
    app = types.SimpleNamespace(should_stop=False)
    interval = 0.2

    async def run() -> list[float]:
        start = time.monotonic()
        dues = []
        async for due in ticks(app, interval):
            dues.append(due - start)
            if len(dues) == 2:
                time.sleep(0.5)  # a publication longer than two intervals
            if len(dues) == 5:
                app.should_stop = True
        return dues

    dues = asyncio.run(run())
    steps = [round((b - a) / interval, 6) for a, b in zip(dues, dues[1:], strict=False)]
    assert steps[0] == 1 and steps[2:] == [1, 1]
    assert steps[1] == 3  # the ticks missed while busy are skipped, the grid is kept
    assert all(abs(d / interval - round(d / interval)) < 0.05 for d in dues)
