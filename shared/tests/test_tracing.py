"""Traces through HTTP and the bus (chatlens.shared.tracing): a request's server span continues the
caller's traceparent, and an RPC over the real RabbitMQ is handled in a consumer span of the same
trace, a child of the span that sent it; work handed over with a carrier (a Dask task) runs in a
server span continuing it; without an endpoint nothing is set up or injected."""

from __future__ import annotations

import time

import numpy as np
import pytest
from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chatlens.shared import logs, schemas, topology, tracing, web

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def spans():
    """Spans of this process, kept in memory (the provider can be set once per process)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_without_an_endpoint_nothing_is_set_up():
    assert tracing.init_tracing("gateway", None) is False
    assert tracing.init_tracing("gateway", "") is False


def test_a_request_continues_the_callers_trace(spans):
    spans.clear()
    app = Flask(__name__)
    web.init_correlation(app)
    tracing.init_app(app)

    @app.get("/things/<name>")
    def thing(name):
        return {"trace": format(trace.get_current_span().get_span_context().trace_id, "032x")}

    response = app.test_client().get(
        "/things/a",
        headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", logs.HEADER: "corr-trace-1"},
    )
    assert response.json == {"trace": TRACE_ID}
    (span,) = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert span.name == "GET /things/<name>"
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["chatlens.correlation_id"] == "corr-trace-1"


def test_an_rpc_is_handled_in_the_senders_trace(spans, bus):
    seen = {}

    def handler(message, delivery):
        seen["context"] = trace.get_current_span().get_span_context()
        return schemas.QueryEmbedded(
            model="m", vectors=schemas.Vectors.from_array(np.full((1, 3), 0.5, dtype="float32"))
        )

    server = bus.rpc_server(topology.EMBEDDING_RPC.name, handler).start()
    deadline = time.monotonic() + 20
    while not server.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    spans.clear()
    try:
        with tracing.tracer().start_as_current_span("search") as parent:
            bus.rpc().call(schemas.EmbedQuery(texts=["a"]), timeout=10)
    finally:
        server.stop()
    sent = parent.get_span_context()
    assert seen["context"].trace_id == sent.trace_id
    (consumer,) = [
        s
        for s in spans.get_finished_spans()
        if s.kind == trace.SpanKind.CONSUMER and s.context.trace_id == sent.trace_id
    ]
    assert consumer.parent.span_id == sent.span_id
    assert consumer.attributes["messaging.destination.name"] == topology.EMBEDDING_RPC.name
    assert seen["context"].span_id == consumer.context.span_id


def test_work_handed_over_with_its_carrier_runs_in_a_child_span_with_the_correlation_id(spans):
    spans.clear()
    assert tracing.carrier() == {}  # outside any trace and request: nothing to hand over
    with logs.correlation("corr-hand-1"), tracing.span("dask submit work", "client") as sent:
        handed_over = tracing.carrier()

    # Where the work runs (a Dask worker), the carrier is all there is of the sender's context.
    seen = {}
    with pytest.raises(RuntimeError), tracing.serving(handed_over, "work", {"n": 3}) as span:
        seen["correlation_id"] = logs.get_correlation_id()
        seen["current"] = trace.get_current_span()
        raise RuntimeError("the work failed")

    assert seen == {"correlation_id": "corr-hand-1", "current": span}
    assert logs.get_correlation_id() is None
    (served,) = [s for s in spans.get_finished_spans() if s.name == "work"]
    assert served.kind == trace.SpanKind.SERVER
    assert served.context.trace_id == sent.get_span_context().trace_id
    assert served.parent.span_id == sent.get_span_context().span_id
    assert served.attributes["chatlens.correlation_id"] == "corr-hand-1"
    assert served.attributes["n"] == 3
    assert served.status.status_code == trace.StatusCode.ERROR
