"""An in-memory bus with the real bus's semantics, for tests that should not need RabbitMQ
(dramatiq's ``StubBroker`` is the model).

:class:`InMemoryBus` has :class:`~chatlens.shared.bus.Bus`'s interface (``declare``, ``publish``,
``consumer``, ``rpc_server``, ``rpc``, ``close``) and keeps its promises where tests can see
them: the topology of ``chatlens.shared.topology`` (index replicas included), ``mandatory``
publishing (no bound queue: :class:`PublishFailed`), messages encoded and decoded on the way
(an undecodable one is dead-lettered), handlers on worker threads, the one sorting of results
(``handling.outcome``: retries for ``TransientError``, dead-lettering for ``PermanentError``,
requeue up to the queue's delivery limit, then its dead-letter queue), RPC replies with
``RpcFailed`` as :class:`RpcError`, :class:`RpcTimeout` when nobody answers in time (and the
request expiring with it; :class:`PublishFailed` at once when nothing consumes its queue),
streaming RPC with cancellation, and broadcasts to every subscriber
(none is no error). :meth:`InMemoryBus.join` waits
until every queue is empty and no handler runs. What it does not model: connections, prefetch
and persistence across processes.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from chatlens.shared import logs, queues, schemas, topology
from chatlens.shared.handling import (
    Delivery,
    Handler,
    PublishFailed,
    RetryPolicy,
    RpcError,
    RpcTimeout,
    drive_stream,
    outcome,
)


@dataclass
class Envelope:
    """A message on a queue, as the broker holds it."""

    type: str
    body: bytes
    headers: dict[str, Any]
    reply_to: deque[tuple[schemas.Message, bool]] | None = None  # the caller's inbox
    correlation_id: str | None = None
    expires_at: float | None = None
    delivery_count: int = 0
    tag: int = field(default_factory=itertools.count().__next__)


class _Queue:
    def __init__(self, spec: topology.QueueSpec) -> None:
        self.spec = spec
        self.messages: deque[Envelope] = deque()
        self.dead: deque[Envelope] = deque()
        self.ready = threading.Condition()
        self.consumers = 0  # started and not stopped (an RPC to a queue with none fails at once)


class InMemoryBus:
    """The bus in one process's memory; see the module's docstring for what it keeps."""

    def __init__(
        self, service: str = "test", retry: RetryPolicy | None = None, index_replicas: int = 1
    ) -> None:
        self.service = service
        # Tests rarely want real backoff: a transient failure is retried at once.
        self.retry = retry or RetryPolicy(attempts=3, initial_s=0.0, max_s=0.0)
        self.index_replicas = index_replicas
        self.queues: dict[str, _Queue] = {}
        self._busy = 0
        self._idle = threading.Condition()
        self._cancelled: dict[str, threading.Event] = {}
        self.declare()

    # --- the Bus interface ---------------------------------------------------------------------
    def declare(self) -> None:
        """The whole topology, as ``topology.declare`` makes it on RabbitMQ (idempotent)."""
        for spec in (*topology.QUEUES, *topology.replicated_queues(self.index_replicas)):
            self.queues.setdefault(spec.name, _Queue(spec))

    def publish(self, message: schemas.Message) -> None:
        self._route(
            message, Envelope(message.type, schemas.encode(message), self._headers(message))
        )

    def consumer(
        self, queue: str, handler: Handler, *, prefetch: int = 8, workers: int = 1
    ) -> MemoryConsumer:
        return MemoryConsumer(self, queue, handler, workers=workers, rpc=False)

    def subscriber(
        self, handler: Handler, *, on_connect: Callable[[], None] | None = None, prefetch: int = 8
    ) -> MemoryConsumer:
        """Every broadcast, through a queue of its own (``on_connect`` is called once: an
        in-memory subscriber never loses its connection)."""
        spec = topology.QueueSpec(
            f"{queues.BROADCAST}.{uuid.uuid4().hex[:12]}", topology.BROADCAST_TYPES
        )
        self.queues[spec.name] = _Queue(spec)
        if on_connect is not None:
            on_connect()
        return MemoryConsumer(self, spec.name, handler, workers=1, rpc=False)

    def rpc_server(
        self, queue: str, handler: Handler, *, prefetch: int = 4, workers: int = 1
    ) -> MemoryConsumer:
        return MemoryConsumer(self, queue, handler, workers=workers, rpc=True)

    def rpc(self) -> MemoryRpcClient:
        return MemoryRpcClient(self)

    def consumers(self, queue: str) -> int:
        """How many consumers ``queue`` has (0 when it is not declared), as on RabbitMQ."""
        found = self.queues.get(queue)
        return found.consumers if found is not None else 0

    def close(self) -> None:
        pass

    # --- for tests -----------------------------------------------------------------------------
    def depth(self, queue: str) -> int:
        return len(self.queues[queue].messages)

    def dead_letters(self, queue: str) -> list[schemas.Message]:
        """What ``queue`` dead-lettered, decoded where it can be."""
        out = []
        for envelope in self.queues[queue].dead:
            try:
                out.append(schemas.decode(envelope.type, envelope.body))
            except (schemas.UnknownMessage, ValueError):
                continue
        return out

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every work queue is empty and no handler runs (``TimeoutError`` else)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy or any(q.messages for q in self.queues.values() if not q.spec.rpc):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the in-memory bus did not drain")
                self._idle.wait(min(remaining, 0.05))

    # --- inside ------------------------------------------------------------------------------
    @staticmethod
    def _headers(message: schemas.Message) -> dict[str, Any]:
        headers: dict[str, Any] = {"schema-version": message.schema_version}
        correlation_id = logs.get_correlation_id()
        if correlation_id:
            headers[logs.AMQP_HEADER] = correlation_id
        return headers

    def _route(self, message: schemas.Message, envelope: Envelope) -> None:
        key = topology.routing_key(message, self.index_replicas)
        bound = [q for q in self.queues.values() if key in q.spec.bindings]
        if not bound and message.queue == queues.BROADCAST:
            return  # nobody subscribed: a broadcast is for whoever listens now
        if not bound:
            raise PublishFailed(f"{message.type} {message.id}: no queue bound to {key!r}")
        for queue in bound:
            self._put(
                queue,
                envelope
                if len(bound) == 1
                else Envelope(
                    envelope.type,
                    envelope.body,
                    dict(envelope.headers),
                    envelope.reply_to,
                    envelope.correlation_id,
                    envelope.expires_at,
                ),
            )

    def _put(self, queue: _Queue, envelope: Envelope) -> None:
        with queue.ready:
            queue.messages.append(envelope)
            queue.ready.notify()

    def _take(self, queue: _Queue, stopping: threading.Event) -> Envelope | None:
        with queue.ready:
            while not stopping.is_set():
                while queue.messages:
                    envelope = queue.messages.popleft()
                    if envelope.expires_at is not None and envelope.expires_at < time.monotonic():
                        continue  # the caller gave up: RabbitMQ drops an expired request too
                    with self._idle:
                        self._busy += 1
                    return envelope
                queue.ready.wait(0.05)
        return None

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()


class MemoryConsumer:
    """A consumer (or RPC server) of one in-memory queue, handlers on a thread pool."""

    def __init__(
        self, bus: InMemoryBus, queue: str, handler: Handler, *, workers: int, rpc: bool
    ) -> None:
        if queue not in bus.queues:
            raise KeyError(f"no queue {queue!r} is declared")
        self.bus, self.queue, self.handler, self.rpc = bus, bus.queues[queue], handler, rpc
        self.workers = workers
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def ready(self) -> bool:
        return bool(self._threads) and not self._stopping.is_set()

    def start(self) -> MemoryConsumer:
        self.queue.consumers += 1
        for n in range(self.workers):
            thread = threading.Thread(
                target=self.run, name=f"memory-{self.queue.spec.name}-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if not self._stopping.is_set() and self._threads:
            self.queue.consumers -= 1
        self._stopping.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def run(self) -> None:
        while not self._stopping.is_set():
            envelope = self.bus._take(self.queue, self._stopping)
            if envelope is None:
                return
            try:
                self._work(envelope)
            finally:
                self.bus._done()

    def _work(self, envelope: Envelope) -> None:
        stream = bool(
            self.rpc and envelope.reply_to is not None and envelope.headers.get("x-chatlens-stream")
        )
        delivery = Delivery(
            queue=self.queue.spec.name,
            redelivered=envelope.delivery_count > 0,
            delivery_count=envelope.delivery_count,
            correlation_id=envelope.headers.get(logs.AMQP_HEADER),
            headers=dict(envelope.headers),
            stream=stream,
            last=envelope.delivery_count >= self.queue.spec.delivery_limit
            and not self.queue.spec.rpc,
        )
        with logs.correlation(delivery.correlation_id):
            result, reply = outcome(
                self.handler,
                envelope.type,
                envelope.body,
                envelope.headers.get("schema-version"),
                delivery,
                self.bus.retry,
            )
            if isinstance(reply, Generator):
                cancelled = self.bus._cancelled.setdefault(
                    envelope.correlation_id or "", threading.Event()
                )

                def send(chunk: schemas.Message, seq: int) -> None:
                    assert envelope.reply_to is not None  # only an RPC caller streams
                    envelope.reply_to.append((chunk, False))

                try:
                    reply, _ = drive_stream(reply, delivery, send, cancelled)
                finally:
                    self.bus._cancelled.pop(envelope.correlation_id or "", None)
        if self.rpc:  # an RPC is answered once, success or not
            if envelope.reply_to is not None and isinstance(reply, schemas.Message):
                envelope.reply_to.append((reply, True))
        elif result == "rejected":
            self.queue.dead.append(envelope)
        elif result == "requeued":
            envelope.delivery_count += 1
            if envelope.delivery_count > self.queue.spec.delivery_limit:
                self.queue.dead.append(envelope)  # RabbitMQ's x-delivery-limit
            else:
                self.bus._put(self.queue, envelope)


class MemoryRpcClient:
    """Request/reply in memory: the reply lands in this call's own inbox."""

    def __init__(self, bus: InMemoryBus) -> None:
        self.bus = bus

    def _send(self, request: schemas.Message, timeout: float, stream: bool) -> Envelope:
        headers = self.bus._headers(request)
        if stream:
            headers["x-chatlens-stream"] = True
        envelope = Envelope(
            request.type,
            schemas.encode(request),
            headers,
            deque(),
            uuid.uuid4().hex,
            time.monotonic() + timeout,
        )
        queue = self.bus.queues.get(topology.queue_of(request, self.bus.index_replicas) or "")
        if queue is not None and not queue.consumers:  # its service is down: say so at once
            raise PublishFailed(f"no server for {request.type}: nothing consumes {queue.spec.name}")
        self.bus._route(request, envelope)
        return envelope

    @staticmethod
    def _next(
        envelope: Envelope, request: schemas.Message, timeout: float
    ) -> tuple[schemas.Message, bool]:
        deadline = time.monotonic() + timeout
        assert envelope.reply_to is not None
        while not envelope.reply_to:
            if time.monotonic() > deadline:
                raise RpcTimeout(f"{request.type}: no reply within {timeout:.1f}s")
            time.sleep(0.002)
        message, final = envelope.reply_to.popleft()
        # What crosses the wire is JSON: the reply goes through it as on RabbitMQ.
        message = schemas.decode(message.type, schemas.encode(message))
        if isinstance(message, schemas.RpcFailed):
            raise RpcError(message.code, message.message)
        return message, final

    def call(self, request: schemas.Message, timeout: float = 30.0) -> schemas.Message:
        envelope = self._send(request, timeout, stream=False)
        return self._next(envelope, request, timeout)[0]

    def stream(self, request: schemas.Message, timeout: float = 30.0) -> Iterator[schemas.Message]:
        envelope = self._send(request, timeout, stream=True)
        finished = False
        try:
            while not finished:
                message, finished = self._next(envelope, request, timeout)
                yield message
        except RpcError:
            finished = True
            raise
        finally:
            if not finished:  # the caller stopped reading: tell the server to stop
                self.bus._cancelled.setdefault(
                    envelope.correlation_id or "", threading.Event()
                ).set()

    def close(self) -> None:
        pass
