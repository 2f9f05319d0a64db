"""Settings of the stream workers, passed in by the entry point (never read from the env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The processors a worker can run. Identity linkage must see every source partition, so
# in production it runs in one worker with its own app id; the others scale out.
ROLES = ("identity", "gatekeeper", "aggregates")


@dataclass(frozen=True)
class WorkerSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    opa_url: str = "http://127.0.0.1:8181"
    pseudonym_key: bytes = b""  # master key; per-purpose keys are derived from it
    app_id: str = "chorus-streams"
    state_dir: Path = Path(".chorus/worker")
    publish_interval_s: float = 5.0
    revision_poll_s: float = 5.0
    web_port: int = 6066
    topic_prefix: str = ""
    roles: tuple[str, ...] = ROLES
