"""The composition root: ``python -m chatlens.embedding_worker``.

Reads the settings once, connects the bus and the Dask cluster (an in-process LocalCluster unless
``DASK_SCHEDULER_ADDRESS`` is set), loads the model on every Dask worker, serves the probes,
answers query-embedding RPCs and consumes ingest requests until SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import os

from chatlens.embedding_worker import embedding, encoders
from chatlens.embedding_worker.config import EmbeddingSettings
from chatlens.embedding_worker.handlers import Handlers
from chatlens.shared import compute, health, model_files, topology
from chatlens.shared.bus import Bus
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.lifecycle import StopSignal
from chatlens.shared.logs import configure_logging
from chatlens.shared.tracing import init_tracing

log = logging.getLogger(__name__)

SERVICE = "embedding-worker"


def main() -> None:
    settings = EmbeddingSettings()
    configure_logging(SERVICE, settings.log_level)
    init_sentry(
        settings.sentry_dsn,
        SERVICE,
        environment=settings.sentry_environment,
        release=settings.sentry_release,
    )
    init_tracing(SERVICE, settings.otel_exporter_otlp_endpoint)
    # The model ships inside a package; the Hugging Face hub must never be asked for it.
    os.environ["HF_HUB_OFFLINE"] = "1"

    # Batches go to the index replica owning their collection (INDEX_REPLICAS, as everywhere).
    bus = Bus(settings.amqp_url, SERVICE, index_replicas=settings.index_replicas)
    bus.declare()
    client = compute.connect(
        settings.dask_scheduler_address, name=SERVICE, resources=embedding.RESOURCES
    )
    model_dir = str(model_files.embedding_model_dir())
    onnx_dir = str(settings.embed_onnx_dir) if settings.embed_onnx_dir else None

    def register_model() -> None:
        embedding.register(
            client,
            model_dir,
            backend=settings.embedding_backend,
            onnx_dir=onnx_dir,
            device=settings.embed_device,
            torch_threads=settings.embed_torch_threads,
        )

    register_model()
    # The query model: loaded (and warmed) before the RPC consumer starts, so the first query
    # after start-up is answered as fast as any other.
    local = None
    if settings.query_in_process_max:
        # torch's thread count is per process (it would slow the in-process Dask worker too):
        # only an ONNX session gets its own.
        backend = encoders.resolve(settings.embedding_backend, settings.embed_device)
        log.info(
            "embedding backend",
            extra={"configured": settings.embedding_backend, "backend": backend},
        )
        threads = None if backend == "torch" else settings.query_threads
        local = encoders.load_encoder(
            backend,
            model_dir,
            onnx_dir=onnx_dir,
            device=settings.embed_device,
            threads=threads,
        )
        local.encode(["warm-up"])
    embedder = embedding.Embedder(
        client,
        timeout_s=settings.embed_timeout_s,
        local=local,
        local_max_texts=settings.query_in_process_max,
        on_lost_plugin=register_model,
    )
    handlers = Handlers(
        bus.publish,
        embedder,
        upload_dir=settings.upload_dir,
        batch_size=settings.batch_size,
        pipeline_depth=settings.pipeline_depth,
        archive_limits=settings.archive_limits(),
        query_cache_size=settings.query_cache_size,
    )

    ingest_routes, rpc_routes = handlers.routes()
    rpc = bus.rpc_server(topology.EMBEDDING_RPC.name, rpc_routes, workers=2)
    ingest = bus.consumer(topology.INGEST_QUEUE.name, ingest_routes, prefetch=1, workers=1)
    health.serve(
        settings.health_port,
        lambda: rpc.ready and ingest.ready and embedder.ready(),
        host=settings.host,
    )

    stopping = StopSignal("embedding-worker")
    rpc.start()
    ingest.start()
    log.info("embedding worker running", extra={"upload_dir": str(settings.upload_dir)})
    stopping.wait()
    # Consumers first (a running ingest finishes or is left to redelivery), then the cluster.
    ingest.stop()
    rpc.stop()
    cluster = client.cluster  # the LocalCluster when we started one; a client does not close it
    client.close()
    if cluster is not None:
        cluster.close()
    bus.close()
    log.info("embedding worker stopped")


if __name__ == "__main__":
    main()
