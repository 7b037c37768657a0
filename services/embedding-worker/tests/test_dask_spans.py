"""Traces through Dask (issue 14): submitting an embedding batch and waiting for it are CLIENT
spans, children of whatever span the worker is in (the consumer span of its ingest message), so
a trace shows where an ingest waited for the cluster; the task carries the submit span's context
for the worker's span (test_worker_spans: a real worker process). The cluster is a fake with
Dask's client surface (submit with a key, a future's result); the spans are the real SDK's, kept
in memory."""

from __future__ import annotations

import numpy as np
from opentelemetry import propagate, trace

from chatlens.embedding_worker.embedding import Embedder
from chatlens.shared import logs, tracing
from chatlens.shared.testing import memory_spans


class Future:
    def __init__(self, key: str, vectors: np.ndarray) -> None:
        self.key, self._vectors = key, vectors

    def result(self, timeout: float | None = None) -> np.ndarray:
        return self._vectors

    def cancel(self) -> None:
        pass


class Client:
    def __init__(self) -> None:
        self.trace_contexts: list[dict[str, str]] = []

    def submit(self, function, texts, *, key, trace_context, **_options):
        self.trace_contexts.append(trace_context)
        return Future(key, np.ones((len(texts), 4), dtype=np.float32))


def test_a_batch_is_submitted_and_awaited_in_client_spans_of_the_callers_trace():
    spans = memory_spans()
    client = Client()
    embedder = Embedder(client)
    with logs.correlation("corr-dask-1"), tracing.span("ingest.requested process") as parent:
        vectors = embedder.embed(["one", "two", "three"], priority=5)
    assert vectors.shape == (3, 4)

    finished = {span.name: span for span in spans.get_finished_spans()}
    submit, wait = finished["dask submit embed_texts"], finished["dask result embed_texts"]
    for span in (submit, wait):
        assert span.kind == trace.SpanKind.CLIENT
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.context.trace_id == parent.get_span_context().trace_id
        assert span.attributes["chatlens.correlation_id"] == "corr-dask-1"
    assert submit.attributes["chatlens.texts"] == 3 and submit.attributes["dask.priority"] == 5
    assert submit.attributes["dask.key"] == wait.attributes["dask.key"]
    assert submit.attributes["dask.key"].startswith("embed-")

    # What the worker's span continues: the submit span, and the request's correlation id.
    (handed_over,) = client.trace_contexts
    parent = trace.get_current_span(propagate.extract(handed_over)).get_span_context()
    assert (parent.trace_id, parent.span_id) == (submit.context.trace_id, submit.context.span_id)
    assert handed_over[logs.AMQP_HEADER] == "corr-dask-1"
