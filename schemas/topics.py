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


# Every name can carry a prefix (for example "test1." or "staging."), so several
# independent Chorus environments can share one Kafka cluster. The default is none.


def source_topic(domain: str, event: str, prefix: str = "") -> str:
    return f"{prefix}chorus.source.{domain}.{event}"


def share_topic(purpose: str, event: str, prefix: str = "") -> str:
    return f"{prefix}chorus.share.{purpose}.{event}"


def agg_topic(aggregate: str, prefix: str = "") -> str:
    return f"{prefix}chorus.agg.{aggregate}"


def dlq_topic(stage: str, prefix: str = "") -> str:
    return f"{prefix}chorus.dlq.{stage}"


def ledger_topic(prefix: str = "") -> str:
    return f"{prefix}chorus.ledger"


LEDGER = ledger_topic()

# Events flowing through Chorus today: (domain, event). Each has a schema under
# schemas/avro/<domain>/<event>.avsc.
SOURCE_EVENTS: tuple[tuple[str, str], ...] = (("case_management", "referral"),)

# Purposes that have share topics. Which recipients subscribe to them is policy
# data (policies/data/); the topics exist for every purpose that can receive events.
SHARE_PURPOSES: tuple[str, ...] = ("strategic_reporting",)

AGGREGATES: tuple[str, ...] = ("referrals_by_source",)

DLQ_STAGES: tuple[str, ...] = ("connector", "gatekeeper", "aggregate")


def all_topics(prefix: str = "") -> list[TopicSpec]:
    """The topics `chorus stack up` creates, with their partition counts."""
    specs: list[TopicSpec] = []
    for domain, event in SOURCE_EVENTS:
        specs.append(
            TopicSpec(source_topic(domain, event, prefix), description="raw source events")
        )
        for purpose in SHARE_PURPOSES:
            specs.append(
                TopicSpec(share_topic(purpose, event, prefix), description=f"shared for {purpose}")
            )
    specs.append(TopicSpec(ledger_topic(prefix), description="every sharing decision"))
    for name in AGGREGATES:
        specs.append(
            TopicSpec(
                agg_topic(name, prefix), partitions=1, compacted=True, description="published cells"
            )
        )
    for stage in DLQ_STAGES:
        specs.append(
            TopicSpec(dlq_topic(stage, prefix), description=f"dead letters from the {stage}")
        )
    return specs
