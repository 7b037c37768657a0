"""The one RabbitMQ implementation of Chatlens. Nobody else imports pika.

What it guarantees:

* publishing uses publisher confirms and ``mandatory``: ``publish`` returns only once the broker
  has taken the message into a queue, and raises :class:`PublishFailed` otherwise; messages are
  persistent and carry their type, id, schema version and the correlation id;
* consuming uses manual acks, sent only after the handler returned (its effect committed), with a
  prefetch limit; the handler runs on a worker thread, never on pika's I/O thread, so a long job
  cannot starve heartbeats, and acks go back through ``add_callback_threadsafe``;
* failures are sorted in one place (:meth:`Consumer._outcome`): :class:`TransientError` is retried
  in-process with exponential backoff a bounded number of times, then the message is requeued;
  :class:`PermanentError` and undecodable messages are dead-lettered at once; anything else is
  requeued, and the queue's delivery limit moves a poison message to its dead-letter queue;
* a broadcast (a type whose ``queue`` is ``queues.BROADCAST``) goes to the fanout exchange,
  confirmed but neither mandatory nor persistent: it reaches every subscriber connected at that
  moment (:meth:`Bus.subscriber`, each with its own exclusive, auto-deleted queue), and nobody
  else; a subscriber hears, through ``on_connect``, each time it (re)connects, so it can catch up
  by other means on what it missed while away;
* RPC goes over direct reply-to with a deadline (:class:`RpcClient`): a request whose queue has
  no consumer (its service is down) fails at once with :class:`PublishFailed` instead of waiting
  out the timeout, and one nobody answers in time raises :class:`RpcTimeout` (and expires);
* a streaming RPC (:meth:`RpcClient.stream`) gets several replies: a handler that returns a
  generator has each yielded message sent at once as a chunk, numbered by the ``x-chatlens-seq``
  header, and its return value sent last with ``x-chatlens-final``; a caller that stops reading
  sends :class:`~chatlens.shared.schemas.StreamCancelled` back over direct reply-to to the
  server's channel, and the server closes the generator (so the work behind it stops);
* a dead-letter sweeper (:meth:`Bus.dead_letter_sweeper`) hands each message of a dead-letter
  queue, undecoded, to its handler and acks it once the handler returned; :meth:`Bus.park`
  keeps such a message, confirmed, in its queue's parking queue (``chatlens.shared.deadletters``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from chatlens.shared import logs, metrics, queues, schemas, topology, tracing
from chatlens.shared.deadletters import DeadLetter
from chatlens.shared.handling import (
    BrokerUnavailable,
    Delivery,
    PermanentError,
    PublishFailed,
    RetryPolicy,
    RpcError,
    RpcTimeout,
    TransientError,
    drive_stream,
    outcome,
)

log = logging.getLogger(__name__)

# The bus's errors and what a handler is told are defined with the one sorting of results
# (chatlens.shared.handling) and offered here too, where services have always imported them.
__all__ = [
    "BrokerUnavailable",
    "Bus",
    "Consumer",
    "Delivery",
    "PermanentError",
    "PublishFailed",
    "RetryPolicy",
    "RpcClient",
    "RpcError",
    "RpcTimeout",
    "TransientError",
]

# Streaming RPC headers: the caller asks for a stream; each reply says its place in it.
STREAM_HEADER = "x-chatlens-stream"
SEQ_HEADER = "x-chatlens-seq"
FINAL_HEADER = "x-chatlens-final"

CONNECTION_ERRORS = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    ConnectionError,
)


def _properties(message: schemas.Message, **extra: Any) -> pika.BasicProperties:
    headers: dict[str, Any] = {"schema-version": message.schema_version}
    correlation_id = logs.get_correlation_id()
    if correlation_id:
        headers[logs.AMQP_HEADER] = correlation_id
    tracing.inject(headers)  # the current span's traceparent: the consumer continues the trace
    return pika.BasicProperties(
        content_type="application/json",
        type=message.type,
        message_id=message.id,
        timestamp=int(time.time()),
        headers=headers,
        **extra,
    )


def _reply_properties(
    reply: schemas.Message, request: pika.BasicProperties, seq: int, final: bool
) -> pika.BasicProperties:
    """A stream's reply: numbered, and carrying the server channel's direct reply-to, where the
    caller sends :class:`~chatlens.shared.schemas.StreamCancelled` when it stops reading."""
    properties = _properties(
        reply, correlation_id=request.correlation_id, reply_to=topology.REPLY_TO
    )
    properties.headers.update({SEQ_HEADER: seq, FINAL_HEADER: final})
    return properties


class Bus:
    """A service's handle on RabbitMQ: publishing, consumers and RPC clients.

    One publishing connection per ``Bus``, guarded by a lock so any thread may publish;
    consumers and RPC clients own their connections (pika connections are not thread-safe).
    ``index_replicas`` (INDEX_REPLICAS) routes what is bound for the index to the replica owning
    its collection (``topology.routing_key``).
    """

    def __init__(
        self, url: str, service: str, retry: RetryPolicy | None = None, index_replicas: int = 1
    ) -> None:
        self.parameters = pika.URLParameters(url)
        self.service = service
        self.retry = retry or RetryPolicy()
        self.index_replicas = index_replicas
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._local = threading.local()

    def connect(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(self.parameters)

    def declare(self) -> None:
        """Declare the whole topology (idempotent)."""
        connection = self.connect()
        try:
            topology.declare(connection.channel(), self.index_replicas)
        finally:
            connection.close()

    def publish(self, message: schemas.Message) -> None:
        """Publish persistently, mandatory, and wait for the broker's confirm; a broadcast goes
        to every subscriber connected now (none is no error), transient."""
        body = schemas.encode(message)
        broadcast = message.queue == queues.BROADCAST
        if broadcast:
            exchange, key, mandatory = topology.BROADCAST_EXCHANGE, message.type, False
            properties = _properties(message, delivery_mode=pika.DeliveryMode.Transient)
        else:
            exchange, mandatory = topology.EXCHANGE, True
            key = topology.routing_key(message, self.index_replicas)
            properties = _properties(message, delivery_mode=pika.DeliveryMode.Persistent)
        with self._lock:
            for attempt in Retrying(
                retry=retry_if_exception_type(CONNECTION_ERRORS),
                stop=stop_after_attempt(3),
                wait=wait_exponential(multiplier=0.2, max=2),
                reraise=True,
            ):
                with attempt:
                    try:
                        self._publishing_channel().basic_publish(
                            exchange, key, body, properties, mandatory=mandatory
                        )
                    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                        raise PublishFailed(f"{message.type} {message.id}: {exc!r}") from exc
                    except CONNECTION_ERRORS:
                        self._drop_publisher()
                        raise
        metrics.BUS_PUBLISHED.labels(message.type).inc()

    def _publishing_channel(self) -> BlockingChannel:
        if self._channel is not None and not self._channel.is_closed:
            return self._channel
        if self._connection is None or self._connection.is_closed:
            self._connection = self.connect()
        channel = self._channel = self._connection.channel()
        channel.confirm_delivery()
        # A service may broadcast before any subscriber (or ``declare``) made the exchange.
        channel.exchange_declare(topology.BROADCAST_EXCHANGE, exchange_type="fanout", durable=True)
        return channel

    def _drop_publisher(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:  # the connection is already broken; nothing more to release
            pass
        self._connection = self._channel = None

    def consumer(
        self,
        queue: str,
        handler: Callable[[schemas.Message, Delivery], object],
        *,
        prefetch: int = 8,
        workers: int = 1,
    ) -> Consumer:
        """A consumer of ``queue``; call ``run()`` (blocking) or ``start()`` (a thread)."""
        return Consumer(self, queue, handler, prefetch=prefetch, workers=workers, rpc=False)

    def subscriber(
        self,
        handler: Callable[[schemas.Message, Delivery], object],
        *,
        on_connect: Callable[[], None] | None = None,
        prefetch: int = 8,
    ) -> Consumer:
        """A consumer of every broadcast, through a queue of its own that lives as long as its
        connection; ``on_connect`` is called each time that queue is bound anew (broadcasts
        made while it was disconnected are lost to it). ``run()`` or ``start()`` as above."""
        return Consumer(
            self,
            queues.BROADCAST,
            handler,
            prefetch=prefetch,
            workers=1,
            rpc=False,
            on_connect=on_connect,
        )

    def dead_letter_sweeper(
        self, spec: topology.QueueSpec, handler: Callable[[DeadLetter], object]
    ) -> Consumer:
        """A consumer of ``spec``'s dead-letter queue handing each message, undecoded, to
        ``handler``; acked once it returned, returned to the queue if it raised."""
        return Consumer(
            self,
            spec.dead_letter_queue,
            lambda *_: None,
            prefetch=1,
            workers=1,
            rpc=False,
            dead=(spec.name, handler),
        )

    def park(self, dead: DeadLetter) -> None:
        """Keep a dead message, as it was published plus why it died, in its queue's parking
        queue (declared here: only what is parked needs one); returns once the broker confirmed
        it (``PublishFailed`` otherwise)."""
        properties = pika.BasicProperties(
            content_type="application/json",
            type=dead.type,
            message_id=dead.message_id,
            headers=dead.parked_headers(),
            delivery_mode=pika.DeliveryMode.Persistent,
        )
        with self._lock:
            try:
                channel = self._publishing_channel()
                channel.queue_declare(
                    dead.parking_queue, durable=True, arguments={"x-queue-type": "quorum"}
                )
                channel.basic_publish("", dead.parking_queue, dead.body, properties, mandatory=True)
            except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                raise PublishFailed(f"parking {dead.type} {dead.message_id}: {exc!r}") from exc
            except CONNECTION_ERRORS:
                self._drop_publisher()
                raise

    def rpc_server(
        self,
        queue: str,
        handler: Callable[[schemas.Message, Delivery], schemas.Message],
        *,
        prefetch: int = 4,
        workers: int = 1,
    ) -> Consumer:
        """A consumer that replies with what ``handler`` returns (or ``RpcFailed``)."""
        return Consumer(self, queue, handler, prefetch=prefetch, workers=workers, rpc=True)

    def rpc(self) -> RpcClient:
        """This thread's RPC client (each thread gets its own connection)."""
        client = getattr(self._local, "rpc", None)
        if client is None:
            client = self._local.rpc = RpcClient(self)
        return client

    def consumers(self, queue: str) -> int:
        """How many consumers ``queue`` has now (0 when it does not exist): readiness checks."""
        with self._lock:
            try:
                return _consumer_count(self._publishing_channel(), queue)
            except CONNECTION_ERRORS:
                self._drop_publisher()
                raise

    def close(self) -> None:
        with self._lock:
            self._drop_publisher()


def _last_delivery(queue: str, returned: int) -> bool:
    """Whether a message returned ``returned`` times is dead-lettered if returned once more
    (RabbitMQ counts returns in ``x-delivery-count`` and moves it on past ``x-delivery-limit``)."""
    limit = topology.delivery_limit(queue)
    return limit is not None and returned >= limit


def _consumer_count(channel: BlockingChannel, queue: str) -> int:
    """A passive declare's consumer count; 0 for a missing queue (which closes the channel)."""
    try:
        return int(channel.queue_declare(queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return 0
        raise


class Consumer:
    """Consumes one queue with manual acks, running the handler on a small thread pool."""

    def __init__(
        self,
        bus: Bus,
        queue: str,
        handler: Callable[[schemas.Message, Delivery], object],
        *,
        prefetch: int,
        workers: int,
        rpc: bool,
        on_connect: Callable[[], None] | None = None,
        dead: tuple[str, Callable[[DeadLetter], object]] | None = None,
    ) -> None:
        self.bus, self.queue, self.handler = bus, queue, handler
        # A dead-letter sweeper: (the work queue whose dead letters these are, its handler).
        self._dead = dead
        self.prefetch, self.rpc, self._on_connect = prefetch, rpc, on_connect
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"work-{queue}")
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        # Streams being sent, by correlation id: set when the caller cancels (pika's I/O thread).
        self._cancelled: dict[str, threading.Event] = {}
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """True while connected and consuming."""
        return self._ready.is_set()

    def start(self) -> Consumer:
        self._thread = threading.Thread(target=self.run, name=f"consume-{self.queue}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 35.0) -> None:
        """Stop consuming; running handlers finish and are acked first. Safe from any thread
        (or a signal handler) whether the consumer runs via ``start()`` or ``run()``."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self) -> None:
        """Consume until ``stop()``; reconnects with backoff when the connection drops."""
        backoff = 0.5
        try:
            while not self._stopping.is_set():
                try:
                    self._consume_once()
                    backoff = 0.5
                except CONNECTION_ERRORS as exc:
                    self._ready.clear()
                    log.warning(
                        "consumer lost its connection; reconnecting",
                        extra={"queue": self.queue, "error": repr(exc), "in_s": backoff},
                    )
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, 15.0)
        finally:
            self._executor.shutdown(wait=False)

    def _consume_once(self) -> None:
        connection = self.bus.connect()
        try:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=self.prefetch)
            on_message = functools.partial(self._on_message, connection)
            queue = (
                topology.declare_subscriber(channel)
                if self.queue == queues.BROADCAST
                else self.queue
            )
            tag = channel.basic_consume(queue, on_message)
            if self._on_connect is not None:
                try:
                    self._on_connect()
                except Exception:  # the subscriber's catch-up failed; its broadcasts still come
                    log.exception("a subscriber's on_connect failed", extra={"queue": queue})
            if self.rpc:  # stream chunks carry this channel's direct reply-to: cancels come here
                channel.basic_consume(topology.REPLY_TO, self._on_control, auto_ack=True)
            self._ready.set()
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.5)
            channel.basic_cancel(tag)
            # Let running handlers finish and their acks go out before closing.
            deadline = time.monotonic() + 30
            while self._inflight and time.monotonic() < deadline:
                connection.process_data_events(time_limit=0.2)
        finally:
            self._ready.clear()
            if connection.is_open:
                connection.close()

    # --- on pika's I/O thread --------------------------------------------------------------
    def _on_message(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        if self._stopping.is_set():  # arrived while stopping: give it back untouched
            channel.basic_nack(method.delivery_tag, requeue=True)
            return
        with self._inflight_lock:
            self._inflight += 1
        self._executor.submit(self._work, connection, channel, method, properties, body)

    def _on_control(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        """A caller stopped reading a stream: mark it, the worker thread closes the generator."""
        if properties.type == schemas.StreamCancelled.type and properties.correlation_id:
            cancelled = self._cancelled.get(properties.correlation_id)
            if cancelled is not None:
                cancelled.set()

    # --- on a worker thread -----------------------------------------------------------------
    def _work(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        headers = dict(properties.headers or {})
        if self._dead is not None:
            self._sweep(connection, channel, method, properties, body, headers)
            return
        delivery = Delivery(
            queue=self.queue,
            redelivered=bool(method.redelivered),
            delivery_count=int(headers.get("x-delivery-count", 0)),
            correlation_id=headers.get(logs.AMQP_HEADER),
            headers=headers,
            stream=bool(self.rpc and properties.reply_to and headers.get(STREAM_HEADER)),
            last=_last_delivery(self.queue, int(headers.get("x-delivery-count", 0))),
        )
        started = time.perf_counter()
        if properties.timestamp:  # whole seconds (``_properties``): a wait rounds down or up
            waited = max(0.0, time.time() - properties.timestamp)
            metrics.BUS_WAIT_SECONDS.labels(self.queue).observe(waited)
        with (
            logs.correlation(delivery.correlation_id),
            tracing.consuming(headers, properties.type or "message", self.queue),
        ):
            reply: object
            if self._stopping.is_set():  # queued behind others when stop() came: hand it back
                outcome, reply = "returned", None
            else:
                outcome, reply = self._outcome(properties, body, delivery)
            seq = None
            if isinstance(reply, Generator):
                reply, seq = self._finish(connection, channel, properties, reply, delivery)
            metrics.BUS_HANDLER_SECONDS.labels(self.queue).observe(time.perf_counter() - started)
            metrics.BUS_CONSUMED.labels(self.queue, outcome).inc()
            settle = functools.partial(
                self._settle, channel, method, properties, outcome, reply, seq
            )
            try:
                connection.add_callback_threadsafe(settle)
            except CONNECTION_ERRORS:
                # The connection died under us: the broker redelivers; handlers are idempotent.
                log.warning("connection closed before ack; message will be redelivered")
            finally:
                with self._inflight_lock:
                    self._inflight -= 1

    def _sweep(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
        headers: dict[str, Any],
    ) -> None:
        assert self._dead is not None
        queue, handler = self._dead
        dead = DeadLetter(
            queue=queue,
            type=properties.type,
            message_id=properties.message_id,
            body=body,
            headers=headers,
        )
        outcome = "acked"
        with logs.correlation(headers.get(logs.AMQP_HEADER)):
            try:
                handler(dead)
            except Exception:  # the broker or the database away: keep it, try again soon
                log.exception(
                    "could not sweep a dead letter; returned to its queue",
                    extra={"queue": self.queue, "id": properties.message_id},
                )
                outcome = "requeued"
                self._stopping.wait(2.0)
        metrics.BUS_CONSUMED.labels(self.queue, outcome).inc()
        try:
            connection.add_callback_threadsafe(
                functools.partial(self._settle, channel, method, properties, outcome, None)
            )
        except CONNECTION_ERRORS:
            log.warning("connection closed before ack; the dead letter will be swept again")
        finally:
            with self._inflight_lock:
                self._inflight -= 1

    def _outcome(
        self, properties: pika.BasicProperties, body: bytes, delivery: Delivery
    ) -> tuple[str, object]:
        """Run the handler and sort the result (``handling.outcome``: the one place)."""
        return outcome(
            self.handler,
            properties.type,
            body,
            (properties.headers or {}).get("schema-version"),
            delivery,
            self.bus.retry,
        )

    def _finish(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        properties: pika.BasicProperties,
        stream: Generator[schemas.Message, None, object],
        delivery: Delivery,
    ) -> tuple[schemas.Message, int | None]:
        """Run a handler's generator to its end (``handling.drive_stream``); each chunk goes
        out on pika's I/O thread, a cancel from the caller closes the generator."""
        key = properties.correlation_id or ""
        cancelled = self._cancelled[key] = threading.Event()

        def send(chunk: schemas.Message, seq: int) -> None:
            publish = functools.partial(self._send_chunk, channel, properties, chunk, seq)
            connection.add_callback_threadsafe(publish)

        try:
            return drive_stream(stream, delivery, send, cancelled, CONNECTION_ERRORS)
        finally:
            self._cancelled.pop(key, None)

    # --- back on pika's I/O thread ----------------------------------------------------------
    def _send_chunk(
        self,
        channel: BlockingChannel,
        properties: pika.BasicProperties,
        chunk: schemas.Message,
        seq: int,
    ) -> None:
        if channel.is_open:
            channel.basic_publish(
                "",
                properties.reply_to,
                schemas.encode(chunk),
                _reply_properties(chunk, properties, seq, final=False),
            )

    def _settle(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        outcome: str,
        reply: object,
        seq: int | None = None,
    ) -> None:
        if not channel.is_open:
            return
        if outcome == "returned":
            channel.basic_nack(method.delivery_tag, requeue=True)
        elif self.rpc:
            # An RPC is answered once, success or not; the caller decides what to do next.
            if properties.reply_to and isinstance(reply, schemas.Message):
                reply_properties = (
                    _properties(reply, correlation_id=properties.correlation_id)
                    if seq is None
                    else _reply_properties(reply, properties, seq, final=True)
                )
                channel.basic_publish(
                    "", properties.reply_to, schemas.encode(reply), reply_properties
                )
            channel.basic_ack(method.delivery_tag)
        elif outcome == "acked":
            channel.basic_ack(method.delivery_tag)
        elif outcome == "rejected":
            channel.basic_nack(method.delivery_tag, requeue=False)
        else:
            channel.basic_nack(method.delivery_tag, requeue=True)


class RpcClient:
    """Request/reply over direct reply-to. Not thread-safe: use ``Bus.rpc()`` per thread."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._replies: dict[str, tuple[pika.BasicProperties, bytes]] = {}
        self._streams: dict[str, deque[tuple[pika.BasicProperties, bytes]]] = {}

    def call(self, request: schemas.Message, timeout: float = 30.0) -> schemas.Message:
        """Send ``request`` and wait for its reply; raises RpcTimeout, RpcError, PublishFailed,
        BrokerUnavailable (the connection failed: a broker restart, a network cut)."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            return self._call(request, timeout)
        except CONNECTION_ERRORS as exc:
            outcome = BrokerUnavailable.__name__
            self.close()
            raise BrokerUnavailable(
                f"{request.type}: the broker connection failed: {exc!r}"
            ) from exc
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            metrics.RPC_SECONDS.labels(request.type, outcome).observe(time.perf_counter() - started)

    def _call(self, request: schemas.Message, timeout: float) -> schemas.Message:
        correlation_id = uuid.uuid4().hex
        self._send(request, correlation_id, timeout)
        deadline = time.monotonic() + timeout
        while correlation_id not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RpcTimeout(f"{request.type}: no reply within {timeout:.1f}s")
            self._connected().process_data_events(time_limit=min(remaining, 0.25))
        reply_properties, reply_body = self._replies.pop(correlation_id)
        reply = schemas.decode(reply_properties.type, reply_body)
        if isinstance(reply, schemas.RpcFailed):
            raise RpcError(reply.code, reply.message)
        return reply

    def stream(self, request: schemas.Message, timeout: float = 30.0) -> Iterator[schemas.Message]:
        """Send ``request`` as a streaming RPC; yields each chunk as it arrives, the final reply
        last. ``timeout`` bounds the wait for each next message, not the whole stream. Raises
        RpcTimeout, RpcError (an ``RpcFailed`` at any point), PublishFailed. Closing the iterator
        early tells the server to stop."""
        correlation_id = uuid.uuid4().hex
        inbox: deque[tuple[pika.BasicProperties, bytes]] = deque()
        self._streams[correlation_id] = inbox
        server = None  # the server channel's reply-to, learnt from its first chunk
        finished = False
        try:
            self._send(request, correlation_id, timeout, {STREAM_HEADER: True})
            expected = 0
            while not finished:
                deadline = time.monotonic() + timeout
                while not inbox:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise RpcTimeout(f"{request.type}: no stream message within {timeout:.1f}s")
                    self._connected().process_data_events(time_limit=min(remaining, 0.25))
                properties, body = inbox.popleft()
                server = properties.reply_to or server
                headers = properties.headers or {}
                message = schemas.decode(properties.type, body)
                finished = bool(headers.get(FINAL_HEADER)) or SEQ_HEADER not in headers
                if isinstance(message, schemas.RpcFailed):
                    finished = True
                    raise RpcError(message.code, message.message)
                if headers.get(SEQ_HEADER, expected) != expected:
                    raise RpcError(
                        "stream_broken",
                        f"{request.type}: message "
                        f"{headers.get(SEQ_HEADER)} arrived, {expected} expected",
                    )
                expected += 1
                yield message
        except CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(
                f"{request.type}: the broker connection failed: {exc!r}"
            ) from exc
        finally:
            self._streams.pop(correlation_id, None)
            if not finished and server and self._channel is not None and self._channel.is_open:
                cancel = schemas.StreamCancelled()
                try:
                    self._channel.basic_publish(
                        "",
                        server,
                        schemas.encode(cancel),
                        _properties(cancel, correlation_id=correlation_id),
                    )
                except (
                    pika.exceptions.UnroutableError,
                    pika.exceptions.NackError,
                    *CONNECTION_ERRORS,
                ):
                    log.warning("could not cancel a stream", extra={"type": request.type})

    def _send(
        self,
        request: schemas.Message,
        correlation_id: str,
        timeout: float,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish ``request`` with our direct reply-to, expiring when the caller gives up."""
        properties = _properties(
            request,
            reply_to=topology.REPLY_TO,
            correlation_id=correlation_id,
            expiration=str(max(1, int(timeout * 1000))),
        )
        properties.headers.update(headers or {})
        body = schemas.encode(request)
        key = topology.routing_key(request, self.bus.index_replicas)
        queue = topology.queue_of(request, self.bus.index_replicas)
        for attempt in (1, 2):  # an idle connection may have been closed by the broker
            try:
                channel = self._ensure_channel()
                if queue is not None and not _consumer_count(channel, queue):
                    raise PublishFailed(f"no server for {request.type}: nothing consumes {queue}")
                channel.basic_publish(topology.EXCHANGE, key, body, properties, mandatory=True)
                break
            except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                raise PublishFailed(f"no server for {request.type}") from exc
            except CONNECTION_ERRORS:
                self.close()
                if attempt == 2:
                    raise

    def _ensure_channel(self) -> BlockingChannel:
        if self._channel is not None and not self._channel.is_closed:
            return self._channel
        if self._connection is None or self._connection.is_closed:
            self._connection = self.bus.connect()
        channel = self._channel = self._connection.channel()
        channel.confirm_delivery()
        channel.basic_consume(topology.REPLY_TO, self._on_reply, auto_ack=True)
        return channel

    def _connected(self) -> pika.BlockingConnection:
        """The connection ``_send`` opened (it raises rather than leave none)."""
        if self._connection is None:
            raise RpcError("bus_closed", "the RPC client's connection was closed")
        return self._connection

    def _on_reply(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        # Late replies to calls that timed out are dropped here.
        inbox = self._streams.get(properties.correlation_id or "")
        if inbox is not None:
            inbox.append((properties, body))
        elif properties.correlation_id:
            self._replies[properties.correlation_id] = (properties, body)
            if len(self._replies) > 100:
                self._replies.pop(next(iter(self._replies)))

    def close(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:  # already broken; nothing to release
            pass
        self._connection = self._channel = None
