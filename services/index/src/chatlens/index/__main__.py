"""``python -m chatlens.index``: the composition root of the index service."""

from __future__ import annotations

import logging

from chatlens.index.config import IndexSettings
from chatlens.index.service import build
from chatlens.shared import health
from chatlens.shared.bus import Bus
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.lifecycle import StopSignal
from chatlens.shared.logs import configure_logging
from chatlens.shared.tracing import init_tracing

log = logging.getLogger(__name__)


def main() -> None:
    settings = IndexSettings()
    configure_logging("index", settings.log_level)
    init_sentry(
        settings.sentry_dsn,
        "index",
        environment=settings.sentry_environment,
        release=settings.sentry_release,
    )
    init_tracing("index", settings.otel_exporter_otlp_endpoint)
    bus = Bus(settings.amqp_url, "index", index_replicas=settings.index_replicas)
    bus.declare()
    service = build(settings, bus)
    server = health.serve(settings.health_port, service.ready, host=settings.host)

    stopping = StopSignal("index")
    # Both consumers run on their own threads and the main thread only waits: Consumer.stop()
    # drains in-flight work and its acks only for a consumer it started itself.
    service.start()
    log.info("index service running")
    try:
        stopping.wait()
    finally:
        service.stop()
        bus.close()
        server.shutdown()
        log.info("index service stopped")


if __name__ == "__main__":
    main()
