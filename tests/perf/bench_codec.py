"""Benchmark: Avro single-object encode and decode, records per second on one core.

    .venv/bin/python -m tests.perf.bench_codec              # the typical event
    .venv/bin/python -m tests.perf.bench_codec --events     # and every example event type
    .venv/bin/python -m tests.perf.bench_codec --fastavro   # and fastavro alone, for comparison

Uses a typical event (a referral with its outcome flags and identifiers) and,
for comparison, the same event without the optional outcome record. Each figure
is the best of a few timed rounds (as timeit reports), so that another process
on the machine costs a round, not the result; the target is 100,000/s both ways.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

import fastavro

from schemas.catalogue import EventSchema
from schemas.codec import HEADER_LEN, MAGIC, Codec
from schemas.examples import case_management, consent, education, health, voice
from tests.examples import referral

EXAMPLES = {
    event_type: event
    for domain in (case_management, consent, education, health, voice)
    for event_type, event in domain.EXAMPLES.items()
}

N = 20_000
ROUNDS = 5


def rate(fn: Callable[[], Any], n: int = N, rounds: int = ROUNDS) -> tuple[float, float]:
    """Records per second: by the clock, and by this process's CPU time (what another
    process on the machine takes from the clock figure, it does not take from that one)."""
    fn()  # warm up
    wall = cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return n / wall, n / max(cpu, 1e-9)


def report(label: str, size: int, enc: tuple[float, float], dec: tuple[float, float]) -> None:
    print(
        f"{label} ({size} bytes): encode {enc[0]:,.0f}/s, decode {dec[0]:,.0f}/s"
        f" [CPU time: encode {enc[1]:,.0f}/s, decode {dec[1]:,.0f}/s]"
    )


def measure(codec: Codec, label: str, event_type: str, event: dict[str, Any], n: int) -> None:
    data = codec.encode(event_type, event)
    enc = rate(lambda: codec.encode(event_type, event), n)
    dec = rate(lambda: codec.decode(data), n)
    report(label, len(data), enc, dec)


def measure_fastavro(schema: EventSchema, label: str, event: dict[str, Any], n: int) -> None:
    """fastavro alone (what the codec used before), with the same framing."""

    def encode() -> bytes:
        buf = io.BytesIO()
        buf.write(MAGIC + schema.fingerprint)
        fastavro.schemaless_writer(buf, schema.parsed, event)
        return buf.getvalue()

    data = encode()

    def decode() -> Any:
        buf = io.BytesIO(data)
        buf.seek(HEADER_LEN)
        return fastavro.schemaless_reader(buf, schema.parsed, None)

    report(f"{label}, fastavro", len(data), rate(encode, n), rate(decode, n))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", action="store_true", help="measure every example event")
    parser.add_argument("--fastavro", action="store_true", help="measure fastavro alone too")
    parser.add_argument("-n", type=int, default=N, help=f"records per round (default {N:,})")
    args = parser.parse_args(argv)

    codec = Codec()
    typical = "case_management.referral"
    for label, event in (
        ("referral", referral()),
        ("referral without outcome flags", {**referral(), "outcome": None}),
    ):
        measure(codec, label, typical, event, args.n)
        if args.fastavro:
            measure_fastavro(codec.catalogue.latest(typical), label, event, args.n)
    if args.events:
        for event_type, event in sorted(EXAMPLES.items()):
            measure(codec, event_type, event_type, event, max(args.n // 4, 1))


if __name__ == "__main__":
    main()
