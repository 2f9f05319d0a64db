"""Every Kafka topic Chorus uses, declared once.

Connectors, stream processors and the local stack all read this catalogue, so a
topic's name, partition count and retention are decided in one place. Naming
follows the flow in the architecture:

- ``chorus.source.<domain>.<event>``: raw events as connectors publish them (restricted);
- ``chorus.linked``: source events with their internal person key (restricted);
- ``chorus.quality``: data-quality findings, such as identity conflicts;
- ``chorus.share.<purpose>.<event>``: what a purpose may see, written only by the gatekeeper;
- ``chorus.ledger``: every sharing decision;
- ``chorus.agg.<aggregate>``: disclosure-controlled aggregate cells (compacted);
- ``chorus.dlq.<stage>``: what a stage could not process, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

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


def linked_topic(prefix: str = "") -> str:
    return f"{prefix}chorus.linked"


def quality_topic(prefix: str = "") -> str:
    return f"{prefix}chorus.quality"


LEDGER = ledger_topic()

AVRO_DIR = Path(__file__).parent / "avro"
_NOT_SOURCE_DOMAINS = ("common", "platform")


def _source_events() -> tuple[tuple[str, str], ...]:
    """(domain, event) for every event schema: schemas/avro/<domain>/<event>.avsc, lower case.

    Named types used inside events (enums, records) have CamelCase file names.
    """
    return tuple(
        sorted(
            (path.parent.name, path.stem)
            for path in AVRO_DIR.glob("*/*.avsc")
            if path.parent.name not in _NOT_SOURCE_DOMAINS and path.stem[0].islower()
        )
    )


# Events flowing through Chorus: (domain, event), one per source event schema.
SOURCE_EVENTS: tuple[tuple[str, str], ...] = _source_events()

AGGREGATES: tuple[str, ...] = (
    "referrals_by_source",
    "care_leavers",
    "early_help_voice",
    "early_years_communication",
    "participation",
    "information_map",
)

DLQ_STAGES: tuple[str, ...] = ("connector", "identity", "gatekeeper", "aggregate")


def all_topics(prefix: str = "", share: Iterable[tuple[str, str]] = ()) -> list[TopicSpec]:
    """The topics `chorus stack up` creates, with their partition counts.

    `share` lists the (purpose, event type) pairs that have share topics; which
    purposes receive which events is policy data, so the caller reads it there
    (deploy.topic_plan).
    """
    specs: list[TopicSpec] = [
        TopicSpec(source_topic(domain, event, prefix), description="raw source events")
        for domain, event in SOURCE_EVENTS
    ]
    specs.append(
        TopicSpec(
            linked_topic(prefix),
            description="source events with their internal person key, for the gatekeeper",
        )
    )
    specs.append(
        TopicSpec(quality_topic(prefix), description="data-quality findings (identity conflicts)")
    )
    for purpose, event_type in sorted(set(share)):
        event = event_type.split(".", 1)[1]
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
