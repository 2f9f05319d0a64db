"""Reading a table's changelog: JSON keys and values, a value of None deletes (faust's format)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson


def replay(
    state: dict[Any, Any], messages: Iterable[Any], loads: Callable[[bytes], Any] = orjson.loads
) -> int:
    """Apply changelog messages (with ``key`` and ``value``) to ``state``; returns how many."""
    n = 0
    for m in messages:
        key = loads(m.key)
        if m.value is None:
            state.pop(key, None)
        else:
            state[key] = loads(m.value)
        n += 1
    return n
