"""Traces on the Dask workers (issue 14): a worker started with the preload that every deployment
gives it (``--preload chatlens.shared.dask_preload``) runs each ``embed_texts`` task in a span of
its own, exported to its ``OTEL_EXPORTER_OTLP_ENDPOINT``, in the trace of the client span that
submitted it; without an endpoint it sets nothing up. The worker is a separate process
(``LocalCluster(processes=True)``), the collector an OTLP gRPC receiver the test runs, the model
the real MiniLM."""

from __future__ import annotations

import time

from distributed import Client, LocalCluster
from opentelemetry import trace

from chatlens.embedding_worker import embedding
from chatlens.shared import dask_preload, logs, model_files, tracing
from chatlens.shared.testing import memory_spans, otlp_receiver


def worker_process(env: dict[str, str]) -> LocalCluster:
    """One worker in a process of its own, started as the deployments start theirs."""
    return LocalCluster(
        n_workers=1,
        processes=True,
        threads_per_worker=1,
        resources=embedding.RESOURCES,
        preload=[dask_preload.__name__],
        env=env,
        dashboard_address=None,
    )


def test_an_embedding_task_runs_in_a_worker_span_continuing_the_submit_span():
    spans = memory_spans()
    with otlp_receiver() as collector:
        # The batch processor's delay, 5 s by default, cut so that the span comes quickly.
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with worker_process(env) as cluster, Client(cluster) as client:
            embedding.register(client, str(model_files.embedding_model_dir()), device="cpu")
            embedder = embedding.Embedder(client, timeout_s=120)
            with logs.correlation("corr-worker-1"), tracing.span("ingest.requested process"):
                vectors = embedder.embed(["one", "two", "three"])
            task = collector.wait_for("embed_texts", timeout=30)
    assert vectors.shape == (3, embedding.DIMENSIONS)

    submit = {s.name: s for s in spans.get_finished_spans()}["dask submit embed_texts"]
    assert (task.service, task.kind, task.status) == ("dask-worker", "SERVER", "UNSET")
    assert task.trace_id == submit.context.trace_id
    assert task.parent_span_id == submit.context.span_id
    assert task.attributes["chatlens.correlation_id"] == "corr-worker-1"
    assert task.attributes["chatlens.texts"] == 3


def test_a_worker_without_an_endpoint_sets_nothing_up_and_exports_nothing():
    def handed_over_work(handed_over: dict[str, str]) -> bool:
        with tracing.serving(handed_over, "embed_texts") as span:
            return span.is_recording()

    with otlp_receiver() as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with worker_process(env) as cluster, Client(cluster) as client:
            providers = client.run(lambda: type(trace.get_tracer_provider()).__name__)
            carrier = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
            recording = client.submit(handed_over_work, carrier, pure=False).result(timeout=60)
            time.sleep(1)  # ten times the delay a batch processor would wait before sending
        assert collector.all() == []
    # The API's own placeholder: no SDK provider, no processor, no exporter on the worker.
    assert list(providers.values()) == ["ProxyTracerProvider"]
    assert recording is False
