"""Every Kafka topic Chorus uses, declared once.

Connectors, stream processors and the local stack all read this catalogue, so a
topic's name, partition count and retention are decided in one place. Naming
follows the flow in the architecture:

- ``chorus.source.<domain>.<event>``: raw events as connectors publish them (restricted);
- ``chorus.share.<purpose>.<event>``: what a purpose may see, written only by the gatekeeper;
- ``chorus.ledger``: every sharing decision;
- ``chorus.agg.<aggregate>``: disclosure-controlled aggregate cells (compacted);
- ``chorus.dlq.<stage>``: what a stage could not process, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PARTITIONS = 4


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the local stack creates it and processes expect it."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def kafka_config(self) -> dict[str, str]:
        cfg = dict(self.config)
        if self.compacted:
            cfg.setdefault("cleanup.policy", "compact")
        return cfg


def source_topic(domain: str, event: str) -> str:
    return f"chorus.source.{domain}.{event}"


def share_topic(purpose: str, event: str) -> str:
    return f"chorus.share.{purpose}.{event}"


def agg_topic(aggregate: str) -> str:
    return f"chorus.agg.{aggregate}"


def dlq_topic(stage: str) -> str:
    return f"chorus.dlq.{stage}"


LEDGER = "chorus.ledger"

# Events flowing through Chorus today: (domain, event). Each has a schema under
# schemas/avro/<domain>/<event>.avsc.
SOURCE_EVENTS: tuple[tuple[str, str], ...] = (("case_management", "referral"),)

# Purposes that have share topics. Which recipients subscribe to them is policy
# data (policies/data/); the topics exist for every purpose that can receive events.
SHARE_PURPOSES: tuple[str, ...] = ("strategic_reporting",)

AGGREGATES: tuple[str, ...] = ("referrals_by_source",)

DLQ_STAGES: tuple[str, ...] = ("connector", "gatekeeper", "aggregate")


def all_topics() -> list[TopicSpec]:
    """The topics `chorus stack up` creates, with their partition counts."""
    topics: list[TopicSpec] = []
    for domain, event in SOURCE_EVENTS:
        topics.append(TopicSpec(source_topic(domain, event), description="raw source events"))
        for purpose in SHARE_PURPOSES:
            topics.append(TopicSpec(share_topic(purpose, event), description=f"shared for {purpose}"))
    topics.append(TopicSpec(LEDGER, description="every sharing decision"))
    for name in AGGREGATES:
        topics.append(
            TopicSpec(agg_topic(name), partitions=1, compacted=True, description="published cells")
        )
    for stage in DLQ_STAGES:
        topics.append(TopicSpec(dlq_topic(stage), description=f"dead letters from the {stage}"))
    return topics
