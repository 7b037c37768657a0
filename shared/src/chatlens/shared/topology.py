"""Every exchange and queue of Chatlens, declared in one place.

Events and RPC requests go to one topic exchange with their message type as routing key. Work
queues are durable quorum queues (the only kind RabbitMQ 3.10 enforces ``x-delivery-limit`` on)
with a dead-letter exchange, so a poison message ends in ``<queue>.dlq`` after ``delivery_limit``
deliveries instead of looping forever. RPC queues are classic queues; their requests carry an
expiry equal to the caller's timeout, so nobody works on an answer nobody waits for.

Broadcasts (``Message.queue == queues.BROADCAST``, such as auth's ``AccessRevoked``) go to a
fanout exchange instead; each subscriber declares its own exclusive, auto-deleted queue bound to
it (:func:`declare_subscriber`), so every gateway process gets every broadcast made while it is
connected, and nothing piles up for one that is gone.

Which message types a queue takes is not listed here: each type names its queue where it is
declared (``chatlens.shared.schemas``), and ``bound_to`` collects them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from chatlens.shared import queues, schemas

EXCHANGE = "chatlens"
DEAD_LETTER_EXCHANGE = "chatlens.dlx"
REPLY_TO = "amq.rabbitmq.reply-to"
BROADCAST_EXCHANGE = "chatlens.broadcast"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]
    rpc: bool = False
    delivery_limit: int = 5

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dlq"

    def arguments(self) -> dict[str, Any]:
        if self.rpc:
            return {"x-queue-type": "classic"}
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
        }


def bound_to(queue: str) -> tuple[str, ...]:
    """The message types declared for ``queue`` (``Message.queue``), in declaration order."""
    return tuple(type_ for type_, cls in schemas.MESSAGE_TYPES.items() if cls.queue == queue)


INGEST_QUEUE = QueueSpec(queues.INGEST, bound_to(queues.INGEST))
INDEX_QUEUE = QueueSpec(queues.INDEX_INGEST, bound_to(queues.INDEX_INGEST), delivery_limit=10)
GATEWAY_JOBS_QUEUE = QueueSpec(queues.GATEWAY_JOBS, bound_to(queues.GATEWAY_JOBS))
EMBEDDING_RPC = QueueSpec(queues.EMBEDDING_RPC, bound_to(queues.EMBEDDING_RPC), rpc=True)
INDEX_RPC = QueueSpec(queues.INDEX_RPC, bound_to(queues.INDEX_RPC), rpc=True)
INDEX_JOBS = QueueSpec(queues.INDEX_JOBS, bound_to(queues.INDEX_JOBS), delivery_limit=3)
INFERENCE_RPC = QueueSpec(queues.INFERENCE_RPC, bound_to(queues.INFERENCE_RPC), rpc=True)

QUEUES: tuple[QueueSpec, ...] = (
    INGEST_QUEUE,
    INDEX_QUEUE,
    GATEWAY_JOBS_QUEUE,
    EMBEDDING_RPC,
    INDEX_RPC,
    INFERENCE_RPC,
    INDEX_JOBS,
)


# Message types sent to every subscriber through BROADCAST_EXCHANGE.
BROADCAST_TYPES = bound_to(queues.BROADCAST)

# Bus control messages: sent straight to a reply-to address, never through a queue.
CONTROL_TYPES = frozenset({schemas.RpcFailed.type, schemas.StreamCancelled.type})


def unroutable() -> list[str]:
    """Every declared message type that could never arrive anywhere, with the reason: a request
    or event whose queue is not declared here, a reply to something that is not an RPC request,
    or a type that names neither a queue nor what it answers."""
    specs = {spec.name: spec for spec in QUEUES}
    problems = []
    for type_, cls in schemas.MESSAGE_TYPES.items():
        if type_ in CONTROL_TYPES:
            continue
        if cls.queue is not None:
            if cls.queue not in specs and cls.queue != queues.BROADCAST:
                problems.append(f"{type_}: queue {cls.queue!r} is not declared")
            if cls.answers:
                problems.append(f"{type_}: names a queue and what it answers")
        elif cls.answers:
            for request in cls.answers:
                spec = specs.get(request.queue or "")
                if spec is None or not spec.rpc:
                    problems.append(f"{type_}: answers {request.type}, not an RPC request")
        else:
            problems.append(f"{type_}: names no queue and nothing it answers")
    for spec in QUEUES:
        if spec.rpc:
            for type_ in spec.bindings:
                if not any(
                    schemas.MESSAGE_TYPES[type_] in cls.answers
                    for cls in schemas.MESSAGE_TYPES.values()
                ):
                    problems.append(f"{type_}: an RPC request with no reply type")
    return problems


# --- index replicas -----------------------------------------------------------------------------
# The index can run as N replicas, each owning the collections that ``index_replica`` assigns to
# it. Every message for the index (the bindings of INDEX_QUEUE and INDEX_RPC) names a collection;
# with N > 1 its routing key gets the owner's suffix (``index.search.r1``) and each replica has its
# own two queues bound to its suffixed keys. With N = 1 nothing changes: the plain type as routing
# key, the queues ``index.ingest`` and ``index.rpc``. Publishers apply this in ``Bus``, so every
# service routes with this one function, given the same INDEX_REPLICAS.
INDEX_TYPES = frozenset(INDEX_QUEUE.bindings + INDEX_RPC.bindings + INDEX_JOBS.bindings)


def index_replica(collection_id: str, replicas: int) -> int:
    """The replica (0..replicas-1) owning ``collection_id``: a jump consistent hash (Lamping and
    Veach 2014) of a stable digest, so changing N moves only about 1/N of the collections."""
    if replicas <= 1:
        return 0
    key = int.from_bytes(hashlib.blake2b(collection_id.encode(), digest_size=8).digest(), "big")
    bucket, jump = -1, 0
    while jump < replicas:
        bucket = jump
        key = (key * 2862933555777941757 + 1) % (1 << 64)
        jump = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


def _suffixed(key: str, replica: int) -> str:
    return f"{key}.r{replica}"


def routing_key(message: schemas.Message, replicas: int = 1) -> str:
    """The routing key of ``message``: its type, with the owning replica's suffix when it is
    bound for a replicated index."""
    if replicas <= 1 or message.type not in INDEX_TYPES:
        return message.type
    collection_id = getattr(message, "collection_id", None)
    if collection_id is None:
        return message.type
    return _suffixed(message.type, index_replica(collection_id, replicas))


def queue_of(message: schemas.Message, replicas: int = 1) -> str | None:
    """The queue ``message`` is routed to (its replica's, for a replicated index), or None for a
    broadcast or a message without a queue."""
    if message.queue is None or message.queue == queues.BROADCAST:
        return None
    collection_id = getattr(message, "collection_id", None)
    if replicas <= 1 or message.type not in INDEX_TYPES or collection_id is None:
        return message.queue
    return _suffixed(message.queue, index_replica(collection_id, replicas))


def delivery_limit(queue: str) -> int | None:
    """How many times a message of ``queue`` (an index replica's too) may be returned before it
    is dead-lettered; None for a queue without a limit (RPC, a subscriber's)."""
    for spec in QUEUES:
        if queue == spec.name or queue.startswith(f"{spec.name}.r"):
            return None if spec.rpc else spec.delivery_limit
    return None


def index_queues(replica: int = 0, replicas: int = 1) -> tuple[QueueSpec, QueueSpec]:
    """(ingest queue, RPC queue) of one index replica."""
    if not 0 <= replica < max(replicas, 1):
        raise ValueError(f"replica {replica} of {replicas}")
    if replicas <= 1:
        return INDEX_QUEUE, INDEX_RPC
    return tuple(
        replace(
            spec,
            name=_suffixed(spec.name, replica),
            bindings=tuple(_suffixed(key, replica) for key in spec.bindings),
        )
        for spec in (INDEX_QUEUE, INDEX_RPC)
    )  # type: ignore[return-value]


def index_jobs_queue(replica: int = 0, replicas: int = 1) -> QueueSpec:
    """The analytics job queue (topics) of one index replica."""
    if not 0 <= replica < max(replicas, 1):
        raise ValueError(f"replica {replica} of {replicas}")
    if replicas <= 1:
        return INDEX_JOBS
    return replace(
        INDEX_JOBS,
        name=_suffixed(INDEX_JOBS.name, replica),
        bindings=tuple(_suffixed(key, replica) for key in INDEX_JOBS.bindings),
    )


def replicated_queues(replicas: int) -> list[QueueSpec]:
    """Every replica's own queues (none when the index is not replicated)."""
    if replicas <= 1:
        return []
    return [
        spec
        for replica in range(replicas)
        for spec in (*index_queues(replica, replicas), index_jobs_queue(replica, replicas))
    ]


def declare(channel: Any, index_replicas: int = 1) -> None:
    """Declare the whole topology on a pika channel; idempotent, so every service calls it
    (with the same ``index_replicas``: a publisher's messages must find their replica's queue
    even before that replica has started)."""
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(BROADCAST_EXCHANGE, exchange_type="fanout", durable=True)
    for spec in (*QUEUES, *replicated_queues(index_replicas)):
        channel.queue_declare(spec.name, durable=True, arguments=spec.arguments())
        for key in spec.bindings:
            channel.queue_bind(spec.name, EXCHANGE, routing_key=key)
        if not spec.rpc:
            channel.queue_declare(
                spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            channel.queue_bind(spec.dead_letter_queue, DEAD_LETTER_EXCHANGE, routing_key=spec.name)


def declare_subscriber(channel: Any) -> str:
    """Declare one subscriber's queue of broadcasts on a pika channel and return its name: named
    by the broker, exclusive to this connection and deleted with it, bound to the fanout
    exchange (declared here too, so a subscriber needs nobody to have declared it first)."""
    channel.exchange_declare(BROADCAST_EXCHANGE, exchange_type="fanout", durable=True)
    queue: str = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue, BROADCAST_EXCHANGE)
    return queue
