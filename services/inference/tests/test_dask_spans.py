"""Traces through Dask (issue 14): queueing a generation on an engine actor is a CLIENT span, a
child of the span the request is handled in, so a trace shows how long an answer waited to be
taken by the cluster; the call carries that span's context for the generation's span on the
worker (test_worker_spans: a real worker process). The actor is a fake with the real one's
surface (``submit`` returning a future); the spans are the real SDK's, kept in memory."""

from __future__ import annotations

from opentelemetry import propagate, trace

from chatlens.inference.cluster import LlmCluster
from chatlens.inference.registry import ModelSpec
from chatlens.shared import logs, tracing
from chatlens.shared.testing import memory_spans


class Done:
    def __init__(self, value) -> None:
        self.value = value

    def result(self, timeout: float | None = None):
        return self.value


class EngineActor:
    def __init__(self) -> None:
        self.trace_contexts: list[dict[str, str]] = []

    def submit(self, spec, turns, max_new_tokens, sampling, trace_context):
        self.trace_contexts.append(trace_context)
        return Done(("seq-1", 12))


def test_a_generation_is_queued_in_a_client_span_of_the_requests_trace():
    spans = memory_spans()
    cluster = LlmCluster(client=None, timeout_s=5)
    actor = EngineActor()
    cluster._actors = [actor]
    spec = ModelSpec(
        name="SmolLM2-135M-Instruct", kind="llm", source="models/smol", context_length=2048
    )
    with logs.correlation("corr-gen-1"), tracing.span("inference.generate process") as parent:
        generation = cluster.open(spec, [{"role": "user", "content": "hi"}], max_new_tokens=32)
    assert (generation.sequence_id, generation.prompt_tokens) == ("seq-1", 12)

    (span,) = [s for s in spans.get_finished_spans() if s.name == "dask submit generate"]
    assert span.kind == trace.SpanKind.CLIENT
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.attributes["chatlens.model"] == "SmolLM2-135M-Instruct"
    assert span.attributes["chatlens.max_new_tokens"] == 32
    assert span.attributes["chatlens.correlation_id"] == "corr-gen-1"

    (handed_over,) = actor.trace_contexts
    parent = trace.get_current_span(propagate.extract(handed_over)).get_span_context()
    assert (parent.trace_id, parent.span_id) == (span.context.trace_id, span.context.span_id)
    assert handed_over[logs.AMQP_HEADER] == "corr-gen-1"
