"""Every exchange and queue of Chatlens, declared in one place.

Events and RPC requests go to one topic exchange with their message type as routing key. Work
queues are durable quorum queues (the only kind RabbitMQ 3.10 enforces ``x-delivery-limit`` on)
with a dead-letter exchange, so a poison message ends in ``<queue>.dlq`` after ``delivery_limit``
deliveries instead of looping forever. RPC queues are classic queues; their requests carry an
expiry equal to the caller's timeout, so nobody works on an answer nobody waits for.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatlens.shared import schemas

EXCHANGE = "chatlens"
DEAD_LETTER_EXCHANGE = "chatlens.dlx"
REPLY_TO = "amq.rabbitmq.reply-to"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]
    rpc: bool = False
    delivery_limit: int = 5

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dlq"

    def arguments(self) -> dict:
        if self.rpc:
            return {"x-queue-type": "classic"}
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.name,
        }


INGEST_QUEUE = QueueSpec("embedding.ingest", (schemas.IngestRequested.type,))
INDEX_QUEUE = QueueSpec(
    "index.ingest", (schemas.ChunksEmbedded.type, schemas.EmbeddingFinished.type), delivery_limit=10
)
GATEWAY_JOBS_QUEUE = QueueSpec(
    "gateway.jobs",
    (schemas.JobProgressed.type, schemas.JobFailed.type, schemas.IndexUpdated.type),
)
EMBEDDING_RPC = QueueSpec("embedding.rpc", (schemas.EmbedQuery.type,), rpc=True)
INDEX_RPC = QueueSpec("index.rpc", (
    schemas.SearchRequested.type, schemas.VersionsListRequested.type,
    schemas.VersionRestoreRequested.type, schemas.VersionsCompareRequested.type,
), rpc=True)
INFERENCE_RPC = QueueSpec("inference.rpc", (schemas.GenerateRequested.type,
                                             schemas.ModelsListRequested.type), rpc=True)

QUEUES: tuple[QueueSpec, ...] = (
    INGEST_QUEUE, INDEX_QUEUE, GATEWAY_JOBS_QUEUE, EMBEDDING_RPC, INDEX_RPC, INFERENCE_RPC,
)


def declare(channel) -> None:
    """Declare the whole topology on a pika channel; idempotent, so every service calls it."""
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    for spec in QUEUES:
        channel.queue_declare(spec.name, durable=True, arguments=spec.arguments())
        for key in spec.bindings:
            channel.queue_bind(spec.name, EXCHANGE, routing_key=key)
        if not spec.rpc:
            channel.queue_declare(
                spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            channel.queue_bind(spec.dead_letter_queue, DEAD_LETTER_EXCHANGE, routing_key=spec.name)
