"""Faust topic objects for the topics in the catalogue (schemas/topics.py), declared once.

Values are Avro single-object encoded bytes; processors decode them with the codec.
"""

from __future__ import annotations

import faust

from schemas import topics as catalogue


def raw_topic(app: faust.App, *names: str) -> faust.TopicT:
    return app.topic(
        *names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


def source_topics(app: faust.App, prefix: str) -> faust.TopicT:
    names = [catalogue.source_topic(d, e, prefix) for d, e in catalogue.SOURCE_EVENTS]
    return raw_topic(app, *names)


def share_topic(app: faust.App, purpose: str, event: str, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.share_topic(purpose, event, prefix))


def ledger_topic(app: faust.App, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.ledger_topic(prefix))


def agg_topic(app: faust.App, name: str, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.agg_topic(name, prefix))


def dlq_topic(app: faust.App, stage: str, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.dlq_topic(stage, prefix))


def linked_topic(app: faust.App, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.linked_topic(prefix))


def quality_topic(app: faust.App, prefix: str) -> faust.TopicT:
    return raw_topic(app, catalogue.quality_topic(prefix))
