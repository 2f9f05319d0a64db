"""Benchmark: Avro single-object encode and decode, records per second on one core.

    .venv/bin/python -m tests.perf.bench_codec

Uses a typical event (a referral with its outcome flags and identifiers) and,
for comparison, the same event without the optional outcome record.
"""

from __future__ import annotations

import time

from schemas.codec import Codec
from tests.examples import referral

N = 50_000


def rate(fn, n: int = N) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    codec = Codec()
    for label, event in (
        ("referral", referral()),
        ("referral without outcome flags", {**referral(), "outcome": None}),
    ):
        data = codec.encode("case_management.referral", event)
        enc = rate(lambda e=event: codec.encode("case_management.referral", e))
        dec = rate(lambda d=data: codec.decode(d))
        print(f"{label} ({len(data)} bytes): encode {enc:,.0f}/s, decode {dec:,.0f}/s")


if __name__ == "__main__":
    main()
