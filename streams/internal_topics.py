"""Creating a worker's internal topics before faust starts, and waiting until Kafka lists them.

faust declares its table changelogs and internal topics while the worker starts
(the aggregates' intake, a client of its own, declares its changelogs here), and
then at once asks for their partitions. On a broker that has just created them the
metadata can lag behind the creation: faust then logs "not found in cluster
metadata", is assigned nothing on them, and a table stays silent until the next
rebalance (minutes). Creating the same
topics, with the same partitions and configuration, before the worker starts and
waiting until the metadata shows every partition with a leader removes that race.
faust finds them present and leaves them as they are.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from schemas.kafka_security import UNAUTHENTICATED, KafkaSecurity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InternalTopic:
    name: str
    partitions: int
    config: dict[str, str]


def want_seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _config(topic: Any) -> dict[str, str]:
    config = {str(k): str(v) for k, v in (topic.config or {}).items()}
    policies = [p for p, on in (("compact", topic.compacting), ("delete", topic.deleting)) if on]
    if policies:
        config.setdefault("cleanup.policy", ",".join(policies))
    if topic.retention is not None:
        seconds = want_seconds(topic.retention)
        config.setdefault("retention.ms", str(int(seconds * 1000)))
    return config


# by app: topics of the clients a worker runs beside faust's
_DECLARED: weakref.WeakKeyDictionary[Any, list[InternalTopic]] = weakref.WeakKeyDictionary()


def declare(app: Any, topic: InternalTopic) -> None:
    """An internal topic of a client the worker runs beside faust's (made like faust's)."""
    _DECLARED.setdefault(app, []).append(topic)


def internal_topics(app: Any) -> list[InternalTopic]:
    """The changelog of every table and every internal topic an agent reads, as faust would
    declare them, and those declared here."""
    found: dict[str, InternalTopic] = {t.name: t for t in _DECLARED.get(app, [])}
    channels = [table.changelog_topic for table in app.tables.values()]
    channels += [
        agent.channel for agent in app.agents.values() if getattr(agent.channel, "internal", False)
    ]
    for topic in channels:
        partitions = topic.partitions or app.conf.topic_partitions
        for name in topic.topics:
            found[name] = InternalTopic(name, int(partitions), _config(topic))
    return sorted(found.values(), key=lambda t: t.name)


def ensure_internal_topics(
    app: Any,
    bootstrap: str,
    security: KafkaSecurity = UNAUTHENTICATED,
    deadline_s: float = 60.0,
) -> list[str]:
    """Create the app's internal topics that are missing; return once Kafka's metadata
    shows every partition of every one of them with a leader (or raise after the deadline)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = internal_topics(app)
    if not wanted:
        return []
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=15_000, **security.kafka_python()
    )
    try:
        present = set(admin.list_topics())
        created = []
        for t in wanted:
            if t.name in present:
                continue
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(t.name, t.partitions, 1, topic_configs=t.config)])
                created.append(t.name)
        if created:
            log.info("created %d internal topics before starting the worker", len(created))
        names = [t.name for t in wanted]
        end = time.monotonic() + deadline_s
        while True:
            described = admin.describe_topics(names)
            missing = [
                d.get("name") or d.get("topic")
                for d in described
                if d.get("error_code")
                or not d["partitions"]
                or any(p.get("leader_id", -1) < 0 for p in d["partitions"])
            ]
            if not missing:
                return created
            if time.monotonic() > end:
                raise RuntimeError(
                    f"Kafka does not list {len(missing)} internal topic(s) of the worker after "
                    f"{deadline_s:.0f}s, e.g. {missing[0]}"
                )
            time.sleep(0.5)
    finally:
        admin.close()
