"""What happens to a delivered message, whatever carries it: the bus's errors, what a handler is
told about a delivery, and the one place where a handler's result is sorted into ack, reject or
requeue. ``chatlens.shared.bus`` (RabbitMQ) and ``chatlens.shared.memorybus`` (in memory, for
tests) both settle messages with :func:`outcome` and drive streaming handlers with
:func:`drive_stream`, so the two cannot drift apart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from chatlens.shared import schemas

log = logging.getLogger("chatlens.shared.bus")


class TransientError(Exception):
    """A failure worth retrying: a dependency was down, a lock was busy, data not there yet."""


class PermanentError(Exception):
    """A failure no retry can fix: the message is wrong. It goes to the dead-letter queue."""

    def __init__(self, message: str, code: str = "invalid_message") -> None:
        super().__init__(message)
        self.code = code


class PublishFailed(Exception):
    """The broker did not confirm the message, or no queue was bound to take it."""


class RpcTimeout(Exception):
    """No reply arrived within the timeout."""


class BrokerUnavailable(TransientError):
    """The connection to the broker failed (a restart, a network cut): worth trying again."""


class RpcError(Exception):
    """The RPC server answered with :class:`~chatlens.shared.schemas.RpcFailed`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Delivery:
    """What a handler may want to know about how its message arrived."""

    queue: str
    redelivered: bool
    delivery_count: int
    correlation_id: str | None
    headers: dict[str, Any] = field(default_factory=dict)
    # The caller reads a stream: a handler's generator is sent chunk by chunk, not drained.
    stream: bool = False
    # The queue's last delivery of this message: if it fails again, the delivery limit moves
    # it to the dead-letter queue, so a handler whose failure would strand something (a job
    # waiting for its word) says so now instead.
    last: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_s: float = 0.5
    max_s: float = 8.0


Handler = Callable[[schemas.Message, Delivery], object]
# How a service's code publishes (``Bus.publish``, or a list's ``append`` in tests): one shape.
Publish = Callable[[schemas.Message], None]


def outcome(
    handler: Handler,
    type_: str | None,
    body: bytes,
    schema_version: int | None,
    delivery: Delivery,
    policy: RetryPolicy,
) -> tuple[str, object]:
    """Decode and handle one delivery: ("acked" | "rejected" | "requeued", the reply).

    :class:`TransientError` is retried in-process with backoff, then requeued (an RPC caller
    gets ``RpcFailed`` ``unavailable``: worth trying again soon);
    :class:`PermanentError` and undecodable messages are rejected (dead-lettered; an RPC caller
    gets ``RpcFailed`` with the code); anything else is requeued (``internal``), and the queue's
    delivery limit moves a poison message to its dead-letter queue. A reply may be a generator
    (streaming).
    """
    try:
        message = schemas.decode(type_, body, schema_version)
    except (schemas.UnknownMessage, ValidationError, ValueError) as exc:
        log.error(
            "undecodable message dead-lettered", extra={"type": type_, "error": str(exc)[:500]}
        )
        return "rejected", schemas.RpcFailed(code="invalid_message", message=str(exc)[:500])
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential(multiplier=policy.initial_s, max=policy.max_s),
            reraise=True,
        ):
            with attempt:
                reply = handler(message, delivery)
        return "acked", reply
    except PermanentError as exc:
        extra = {"type": message.type, "id": message.id, "code": exc.code, "error": str(exc)}
        if exc.code in message.errors:
            # A refusal the request type declares (an unknown version, tag or model a user
            # named): the caller's 4xx, not an operator's alarm.
            log.info("request refused", extra=extra)
        else:
            log.error("permanent failure; dead-lettered", extra=extra)
        return "rejected", schemas.RpcFailed(code=exc.code, message=str(exc))
    except Exception as exc:  # transient after retries, or a bug: requeue (limit bounds it)
        log.exception(
            "handler failed; requeued",
            extra={
                "type": message.type,
                "id": message.id,
                "delivery_count": delivery.delivery_count,
            },
        )
        return "requeued", schemas.RpcFailed(code=_failed_code(exc), message=type(exc).__name__)


def _failed_code(exc: Exception) -> str:
    """An RPC caller's code for a failure: ``unavailable`` (worth trying again soon) for a
    :class:`TransientError`, ``internal`` for anything else."""
    return "unavailable" if isinstance(exc, TransientError) else "internal"


def drive_stream(
    stream: Generator[schemas.Message, None, object],
    delivery: Delivery,
    send: Callable[[schemas.Message, int], None],
    cancelled: threading.Event,
    lost: tuple[type[BaseException], ...] = (),
) -> tuple[schemas.Message, int | None]:
    """Run a handler's generator to its end: its return value is the reply. For a streaming
    caller each yielded message goes out at once through ``send(chunk, seq)``; the final reply
    then gets the next number (returned with it). ``cancelled`` set by the caller closes the
    generator; ``lost`` are the carrier's connection errors (nothing more can be sent)."""
    seq = 0

    def final() -> int | None:
        return seq if delivery.stream else None

    try:
        while True:
            if cancelled.is_set():
                stream.close()  # GeneratorExit inside the handler: it stops its work
                log.info("stream cancelled by the caller", extra={"chunks": seq})
                return schemas.RpcFailed(code="cancelled", message="cancelled"), None
            try:
                chunk = next(stream)
            except StopIteration as end:
                if not isinstance(end.value, schemas.Message):
                    raise TypeError("a streaming handler must return its final message") from None
                return end.value, final()
            if delivery.stream:
                send(chunk, seq)
                seq += 1
    except PermanentError as exc:
        return schemas.RpcFailed(code=exc.code, message=str(exc)), final()
    except lost:
        stream.close()
        return schemas.RpcFailed(code="internal", message="connection lost"), None
    except Exception as exc:  # a failure after chunks went out cannot be retried here
        log.exception("streaming handler failed", extra={"chunks": seq})
        stream.close()  # when sending failed, the handler is still running: stop it
        # A transient one (a cluster too slow or lost mid-stream) the caller may try again.
        return schemas.RpcFailed(code=_failed_code(exc), message=type(exc).__name__), final()


class Routes:
    """A consumer's handler: a table from message type to the function that handles it, for the
    types bound to ``queue`` (``Message.queue``). A type it has no route for is refused
    (``unsupported``); :meth:`unhandled` lists the bound types without a route, so a service's
    test fails when a new message type is bound to its queue and nothing handles it."""

    def __init__(
        self,
        queue: str,
        table: dict[type[schemas.Message], Callable[..., object]],
        *,
        with_delivery: bool = False,
    ) -> None:
        # with_delivery: each route is called with (message, delivery), not just the message.
        self.queue, self.table, self.with_delivery = queue, dict(table), with_delivery

    def __call__(self, message: schemas.Message, delivery: Delivery) -> object:
        route = self.table.get(type(message))
        if route is None:
            raise PermanentError(f"{self.queue} does not take {message.type}", code="unsupported")
        return route(message, delivery) if self.with_delivery else route(message)

    def unhandled(self) -> list[str]:
        from chatlens.shared import topology

        return [
            type_
            for type_ in topology.bound_to(self.queue)
            if schemas.MESSAGE_TYPES[type_] not in self.table
        ]
