"""The composition root: ``python -m chatlens.inference`` runs the inference service."""

from __future__ import annotations

import logging
import os

from chatlens.inference.cluster import LlmCluster
from chatlens.inference.config import InferenceSettings
from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.openai_backend import ProviderClient
from chatlens.inference.provider_keys import AuthKeys, broadcast_routes
from chatlens.inference.registry import Registry
from chatlens.shared import compute, health, topology
from chatlens.shared.bus import Bus, Consumer
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.lifecycle import StopSignal
from chatlens.shared.logs import configure_logging
from chatlens.shared.tracing import init_tracing

# Not __name__: run with -m, that is "__main__", which says nothing in a log line.
log = logging.getLogger("chatlens.inference")


def main() -> None:
    """Load the models on the Dask workers, then answer RPCs until SIGTERM or SIGINT."""
    settings = InferenceSettings()
    configure_logging("inference", settings.log_level)
    init_sentry(
        settings.sentry_dsn,
        "inference",
        environment=settings.sentry_environment,
        release=settings.sentry_release,
    )
    init_tracing("inference", settings.otel_exporter_otlp_endpoint)
    # Models come from local files only; the in-process Dask worker inherits this.
    os.environ["HF_HUB_OFFLINE"] = "1"

    registry = Registry.load(settings.model_registry)
    default = registry.llm(settings.default_model)  # a wrong DEFAULT_MODEL stops the start here
    platform_keys = registry.platform_keys(os.environ)  # an unset key variable stops it too
    bus = Bus(settings.amqp_url, "inference")
    bus.declare()

    stopping = StopSignal("inference")  # before the model load: a signal then is not lost

    consumer: Consumer | None = None
    subscriber: Consumer | None = None
    cluster = LlmCluster(
        compute.connect(settings.dask_scheduler_address, name="inference", resources={"llm": 1}),
        timeout_s=settings.generation_timeout_s,
        stream_interval_s=settings.stream_interval_s,
    )
    # Up before the model load so /healthz answers at once; /readyz waits for the consumer.
    probes = health.serve(
        settings.health_port,
        lambda: consumer is not None and consumer.ready and cluster.ready(),
        host=settings.host,
    )
    try:
        # A default served by the platform's OpenAI-compatible server has nothing to load.
        cluster.start(
            [] if default.remote else [default],
            threads=settings.torch_threads,
            max_batch=settings.llm_max_batch,
            niceness=settings.llm_niceness,
        )
        keys = AuthKeys(
            settings.auth_url, settings.internal_token, ttl_s=settings.provider_key_ttl_s
        )
        # A replaced provider key is dropped the moment auth commits it, on every replica.
        subscriber = bus.subscriber(broadcast_routes(keys), on_connect=keys.forget_all).start()
        handlers = InferenceHandlers(
            registry,
            cluster,
            default.name,
            registry_path=settings.model_registry,
            summary_chunk_tokens=settings.summary_chunk_tokens,
            summary_max_chunks=settings.summary_max_chunks,
            providers=ProviderClient(
                keys.key,
                timeout_s=settings.provider_timeout_s,
                max_retries=settings.provider_max_retries,
                allow_private=settings.endpoint_allow_private,
                platform_keys=platform_keys,
            ),
        )
        consumer = bus.rpc_server(
            topology.INFERENCE_RPC.name,
            handlers,
            prefetch=settings.rpc_prefetch,
            workers=settings.rpc_workers,
        )
        consumer.start()
        log.info("inference ready", extra={"default_model": default.name})
        stopping.wait()
    finally:
        if consumer is not None:
            consumer.stop()
        if subscriber is not None:
            subscriber.stop()
        probes.shutdown()
        cluster.close()
        bus.close()


if __name__ == "__main__":
    main()
