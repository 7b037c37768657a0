"""Helpers for tests that use the real servers: throw-away RabbitMQ vhosts, and the rule that a
test needing a server may skip on a laptop without it, but fails in CI (``CI`` set); the spans
of this process in memory, and an OTLP receiver for those other processes export."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def server_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


FAST_TIER = "CHATLENS_TEST_TIER"  # "fast": ``make test-fast``, the tier that uses no server


def fast_tier() -> bool:
    """The fast tier is a developer's loop: with ``CI`` set every test runs, whatever it says."""
    return os.environ.get(FAST_TIER) == "fast" and not os.environ.get("CI")


def slow_model(what: str) -> None:
    """Skip in the fast tier a test that must load a generative model (minutes on 2 cores);
    ``make test`` runs it."""
    import pytest

    if fast_tier():
        pytest.skip(f"{what}: the fast tier loads no LLM")


def unavailable(message: str) -> None:
    """The one rule for a missing server or tool: skip on a laptop, fail when ``CI`` is set.

    The fast tier (``CHATLENS_TEST_TIER=fast``, ``make test-fast``) skips every such test
    without looking: it is the tier of tests that need no server. It is off when ``CI`` is set.
    """
    import pytest

    if fast_tier():
        pytest.skip(message + " (the fast tier uses no servers)")
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


def worker_ports(base: int) -> int:
    """``base`` moved into this pytest-xdist worker's own block of 1000 ports (``gw0`` keeps it,
    ``gw1`` adds 1000, ...), so that tests which start whole stacks on fixed ports can run on
    several workers at once; without xdist, ``base`` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return base + 1000 * int(worker.removeprefix("gw") or 0)


def require_server(host: str, port: int, what: str) -> None:
    """Skip the calling test when the server is missing, unless in CI, where that is a failure."""
    if fast_tier() or not server_available(host, port):
        unavailable(f"{what} is not reachable on {host}:{port}")


@contextmanager
def throwaway_vhost(prefix: str = "test") -> Iterator[str]:
    """A fresh RabbitMQ vhost for one test or session; yields its AMQP URL, deletes it after."""
    require_server("127.0.0.1", 5672, "RabbitMQ")
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    try:
        subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True, timeout=60)
        subprocess.run(
            [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable(f"cannot create a RabbitMQ vhost with rabbitmqctl: {exc}")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        subprocess.run([ctl, "delete_vhost", name], capture_output=True, timeout=60)


@contextmanager
def throwaway_mariadb(prefix: str = "test") -> Iterator[str]:
    """A fresh database on the loopback MariaDB; yields its SQLAlchemy URL, drops it after."""
    require_server("127.0.0.1", 3306, "MariaDB")
    import pymysql  # the services' driver; shared itself does not depend on it

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@contextmanager
def throwaway_postgres(prefix: str = "test") -> Iterator[str]:
    """A fresh database on the loopback PostgreSQL; yields its SQLAlchemy URL, drops it after."""
    require_server("127.0.0.1", 5432, "PostgreSQL")
    import psycopg  # the auth and gateway services' PostgreSQL driver

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def queue_depths(vhost_url: str) -> dict[str, int]:
    """Messages waiting in each queue of the vhost named in an AMQP URL."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = vhost_url.rsplit("/", 1)[-1]
    out = subprocess.run(
        [ctl, "list_queues", "-q", "-p", vhost, "name", "messages"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    depths = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            depths[parts[0]] = int(parts[1])
    return depths


def wait_for_depth(vhost_url: str, queue: str, expected: int, timeout: float = 30.0) -> bool:
    """Wait until ``queue`` holds ``expected`` messages (queue statistics lag by a few seconds)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue_depths(vhost_url).get(queue) == expected:
            return True
        time.sleep(0.5)
    return False


_SPANS: Any = None  # the one InMemorySpanExporter of this process, once a test asked for it


def memory_spans() -> Any:
    """An in-memory exporter of this process's spans (cleared): the tracer provider can be set
    once per process, so every test that reads spans shares it through here."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    global _SPANS
    if _SPANS is None:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        _SPANS = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_SPANS))
    _SPANS.clear()
    return _SPANS


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as an OTLP exporter sent it, with its process's ``service.name``."""

    service: str
    name: str
    kind: str  # "SERVER", "CLIENT", ...
    trace_id: int  # as the SDK's span contexts hold them
    span_id: int
    parent_span_id: int  # 0: a root span
    attributes: dict[str, Any]
    status: str  # "UNSET", "OK", "ERROR"


class ReceivedSpans:
    """What an :func:`otlp_receiver` was sent, span by span."""

    def __init__(self) -> None:
        self.endpoint = ""
        self._spans: list[ReceivedSpan] = []
        self._changed = threading.Condition()

    def add(self, request: Any) -> None:
        from opentelemetry.proto.trace.v1 import trace_pb2

        def values(pairs: Any) -> dict[str, Any]:  # plain values (str, int, float, bool) only
            return {p.key: getattr(p.value, p.value.WhichOneof("value")) for p in pairs}

        received = []
        for resource_spans in request.resource_spans:
            service = values(resource_spans.resource.attributes).get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service,
                            span.name,
                            trace_pb2.Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                            int.from_bytes(span.trace_id, "big"),
                            int.from_bytes(span.span_id, "big"),
                            int.from_bytes(span.parent_span_id, "big"),
                            values(span.attributes),
                            trace_pb2.Status.StatusCode.Name(span.status.code).removeprefix(
                                "STATUS_CODE_"
                            ),
                        )
                    )
        with self._changed:
            self._spans.extend(received)
            self._changed.notify_all()

    def all(self) -> list[ReceivedSpan]:
        with self._changed:
            return list(self._spans)

    def wait_for(self, name: str, timeout: float = 30.0) -> ReceivedSpan:
        """The first span called ``name``, once it arrives (AssertionError after ``timeout``)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: [s for s in self._spans if s.name == name], timeout
            )
        assert found, f"no span {name!r} arrived in {timeout}s; got {self.all()}"
        return found[0]


@contextmanager
def otlp_receiver() -> Iterator[ReceivedSpans]:
    """The receiving end of a collector, OTLP over gRPC on a free loopback port: point a process's
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` at ``.endpoint`` and read what it exported."""
    from concurrent.futures import ThreadPoolExecutor

    import grpc  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    received = ReceivedSpans()

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC's name)
            received.add(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
        Collector(), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    received.endpoint = f"http://127.0.0.1:{port}"
    try:
        yield received
    finally:
        server.stop(grace=None)
