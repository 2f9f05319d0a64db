"""The faust application: the processors of the worker's roles, registered from an explicit list."""

from __future__ import annotations

import faust

from schemas.topics import DEFAULT_PARTITIONS
from streams import web
from streams.aggregates import machinery, registry
from streams.context import StreamContext
from streams.gatekeeper import agent as gatekeeper
from streams.identity import agent as identity
from streams.settings import WorkerSettings

AGGREGATES = registry.AGGREGATES


def create_app(settings: WorkerSettings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        store="memory://",
        autodiscover=False,
        topic_partitions=DEFAULT_PARTITIONS,
        topic_replication_factor=1,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=0.005,  # faust's default of 0 sends a request per message
        web_host=settings.web_host,
        web_port=settings.web_port,
        datadir=str(settings.state_dir),
        **settings.kafka_security.faust(),
    )
    ctx = StreamContext.build(settings)
    web.register(app, ctx)  # /metrics and /health on the worker's web server
    if "identity" in settings.roles:
        identity.register(app, ctx)
    if "gatekeeper" in settings.roles:
        gatekeeper.register(app, ctx)
    if "aggregates" in settings.roles:
        machinery.register_all(app, ctx, AGGREGATES)
    return app
