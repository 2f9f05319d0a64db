"""Settings of the stream workers, passed in by the entry point (never read from the env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

# The processors a worker can run. Identity linkage must see every source partition, so
# in production it runs in one worker with its own app id; the others scale out.
ROLES = ("identity", "gatekeeper", "aggregates")
POLICY_MODES = ("opa", "bypass")


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
    web_host: str = "127.0.0.1"  # 0.0.0.0 in a container, so that Prometheus can scrape it
    topic_prefix: str = ""
    roles: tuple[str, ...] = ROLES
    # Cache OPA's answers by (policy revision, decision input). Off only to measure
    # what the cache saves: every decision then asks the OPA server.
    decision_cache: bool = True
    # "opa": ask the policy. "bypass": BENCHMARK ONLY, no policy is asked (each
    # subscription's first answer is reused for every event, whatever the child's
    # wishes); `chorus worker` refuses it in production mode.
    policy_mode: str = "opa"
    # The gatekeeper takes up to this many events at a time (or what arrived within
    # gatekeeper_batch_s), decides them in order, then sends their messages together.
    gatekeeper_batch: int = 500
    gatekeeper_batch_s: float = 0.05
    kafka_security: KafkaSecurity = UNAUTHENTICATED  # every client of the worker uses it
