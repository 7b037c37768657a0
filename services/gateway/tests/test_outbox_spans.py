"""Traces through the outbox (issue 14): the relay publishes each staged message in a PRODUCER
span carrying the message's correlation id, and the traceparent the bus puts in the message's
headers is that span's, so the consumers' spans continue it."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from chatlens.gateway.jobs import add_to_outbox
from chatlens.gateway.outbox import OutboxRelay
from chatlens.shared import logs, schemas, tracing
from chatlens.shared.testing import memory_spans


@pytest.fixture
def database_url(tmp_path):  # one database is enough: the relay's spans are under test
    return f"sqlite:///{tmp_path / 'gateway.db'}"


class Bus:
    """Publishes like the real bus as far as a trace goes: the headers get the current span."""

    def __init__(self) -> None:
        self.sent: list[tuple[schemas.Message, dict, trace.Span]] = []

    def publish(self, message: schemas.Message) -> None:
        headers: dict = {}
        tracing.inject(headers)
        self.sent.append((message, headers, trace.get_current_span()))


def test_each_relayed_message_is_published_in_a_producer_span_its_consumer_continues(app):
    spans = memory_spans()
    sessions = app.extensions["chatlens.sessions"]
    message = schemas.IngestRequested(
        job_id="job-1",
        org_id="o",
        collection_id="c",
        upload_key="k",
        filename="f.txt",
        sha256="0" * 64,
        size=1,
    )
    with logs.correlation("corr-outbox-1"), sessions() as session:
        add_to_outbox(session, message)
        session.commit()

    bus = Bus()
    assert OutboxRelay(sessions, bus).publish_pending() == 1

    [(sent, headers, current)] = bus.sent
    assert sent.id == message.id
    (span,) = [s for s in spans.get_finished_spans() if s.name == "outbox relay ingest.requested"]
    assert span.kind == trace.SpanKind.PRODUCER
    assert span.attributes["chatlens.correlation_id"] == "corr-outbox-1"
    assert span.attributes["messaging.message.id"] == message.id
    assert current.get_span_context().span_id == span.context.span_id
    trace_id, span_id = headers["traceparent"].split("-")[1:3]
    assert (trace_id, span_id) == (
        format(span.context.trace_id, "032x"),
        format(span.context.span_id, "016x"),
    )
