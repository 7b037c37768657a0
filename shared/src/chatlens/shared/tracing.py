"""OpenTelemetry traces through HTTP and the bus, exported over OTLP only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (each service's composition root calls :func:`init_tracing`).

* HTTP: :func:`init_app` opens a server span per request, a child of the caller's W3C
  ``traceparent`` when it sends one;
* the bus: every published message carries the current span's ``traceparent`` in its AMQP
  headers (:func:`inject`), and a consumer runs the handler in a span that continues it
  (:func:`consuming`), so a search is one trace from nginx through the gateway to the index;
* Dask: submitting work (an embedding batch, a generation queued on an engine actor) and
  waiting for it run in CLIENT spans (:func:`span`), so a trace shows where an ingest or an
  answer waited for the cluster. The submitter passes :func:`carrier` (``traceparent`` and the
  correlation id) with the task or the actor call, and the worker runs the work in a SERVER span
  continuing it (:func:`serving`, or :func:`start_serving` for a generation that ends in the
  engine's decode loop). A Dask worker exports when its own ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
  set: ``dask worker --preload chatlens.shared.dask_preload`` calls :func:`init_tracing`;
* the outbox relay publishes each message in a PRODUCER span of its own (:func:`span`): the
  consumers' spans continue it. It is a new trace, not the request's that staged the message
  (the outbox rows keep the correlation id, not a traceparent), so the correlation id attribute
  is what joins the two;
* the correlation id stays what the logs and error reports use; spans carry it as an attribute.

With no endpoint nothing is set up: the API's no-op tracer makes every call here nearly free and
injects nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import context, propagate, trace

from chatlens.shared import logs

if TYPE_CHECKING:
    from flask import Flask, Response

TRACER = "chatlens"
_KINDS = {
    "client": trace.SpanKind.CLIENT,
    "producer": trace.SpanKind.PRODUCER,
    "internal": trace.SpanKind.INTERNAL,
}


def init_tracing(service: str, endpoint: str | None) -> bool:
    """Export this process's spans to the OTLP collector at ``endpoint`` (gRPC); without one,
    nothing is set up. Returns whether traces are exported."""
    if not endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return True


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER)


def inject(headers: MutableMapping[str, Any]) -> None:
    """Put the current span's ``traceparent`` (and ``tracestate``) into message headers."""
    propagate.inject(headers)


@contextmanager
def consuming(headers: Mapping[str, Any], name: str, queue: str) -> Iterator[trace.Span]:
    """Run a message's handling in a consumer span continuing the publisher's trace."""
    carrier = {key: value for key, value in headers.items() if isinstance(value, str)}
    parent = propagate.extract(carrier)
    attributes = {"messaging.system": "rabbitmq", "messaging.destination.name": queue}
    correlation_id = logs.get_correlation_id()
    if correlation_id:
        attributes["chatlens.correlation_id"] = correlation_id
    with tracer().start_as_current_span(
        f"{name} process", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


@contextmanager
def span(
    name: str,
    kind: Literal["client", "producer", "internal"] = "internal",
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[trace.Span]:
    """A span around work this process hands to someone else (a Dask task: ``client``; the
    outbox's publish: ``producer``), a child of the current span, with the correlation id. An
    exception marks it failed and goes on."""
    values = dict(attributes or {})
    correlation_id = logs.get_correlation_id()
    if correlation_id:
        values["chatlens.correlation_id"] = correlation_id
    with tracer().start_as_current_span(name, kind=_KINDS[kind], attributes=values) as current:
        yield current


def carrier() -> dict[str, str]:
    """The current span's ``traceparent`` (and ``tracestate``) and the correlation id, for work
    that travels without message headers: a Dask task's or an actor call's argument. Empty with
    neither (a process without an endpoint, outside any trace)."""
    values: dict[str, str] = {}
    propagate.inject(values)
    correlation_id = logs.get_correlation_id()
    if correlation_id:
        values[logs.AMQP_HEADER] = correlation_id
    return values


def start_serving(
    handed_over: Mapping[str, str] | None,
    name: str,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> trace.Span:
    """A SERVER span for work another process handed over with its :func:`carrier`, a child of
    the span it was handed over in, with the carrier's correlation id. Started, not made current,
    and the caller ends it: a generation's ends in another thread (its engine's decode loop)."""
    handed_over = handed_over or {}
    values = dict(attributes or {})
    correlation_id = handed_over.get(logs.AMQP_HEADER)
    if correlation_id:
        values["chatlens.correlation_id"] = correlation_id
    return tracer().start_span(
        name,
        context=propagate.extract(dict(handed_over)),
        kind=trace.SpanKind.SERVER,
        attributes=values,
    )


@contextmanager
def serving(
    handed_over: Mapping[str, str] | None,
    name: str,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[trace.Span]:
    """Run handed-over work (a Dask task) in a :func:`start_serving` span, current, and with
    the correlation id in its log lines. An exception marks the span failed and goes on."""
    span = start_serving(handed_over, name, attributes)
    correlation_id = (handed_over or {}).get(logs.AMQP_HEADER)
    with (
        logs.correlation(correlation_id) if correlation_id else nullcontext(),
        trace.use_span(span, end_on_exit=True),
    ):
        yield span


def init_app(app: Flask) -> None:
    """A server span for every request of a Flask app, continuing the caller's trace."""
    from flask import g, request

    @app.before_request
    def _start_span() -> None:
        # The propagator looks up lower-case names ("traceparent").
        parent = propagate.extract({name.lower(): value for name, value in request.headers.items()})
        rule = request.url_rule.rule if request.url_rule else request.path
        span = tracer().start_span(
            f"{request.method} {rule}",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": rule},
        )
        correlation_id = logs.get_correlation_id()
        if correlation_id:
            span.set_attribute("chatlens.correlation_id", correlation_id)
        g._trace_span = span
        g._trace_token = context.attach(trace.set_span_in_context(span))

    @app.after_request
    def _status(response: Response) -> Response:
        span = g.get("_trace_span")
        if span is not None:
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
        return response

    @app.teardown_request
    def _end_span(_exc: BaseException | None) -> None:
        span, token = g.pop("_trace_span", None), g.pop("_trace_token", None)
        if span is not None:
            span.end()
        if token is not None:
            context.detach(token)
