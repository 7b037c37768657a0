"""What becomes of a dead-lettered message: its job is failed, the message is kept, it is counted.

A handler that sees its message's last delivery (``Delivery.last``) fails the job itself. One
that never gets there cannot: a message that kills its service on every delivery (a crash, an
out-of-memory kill) is moved to ``<queue>.dlq`` by the delivery limit while its job still says
``running``. The sweeper (:func:`sweeper`, run by the gateway, which owns jobs, through
``Bus.dead_letter_sweeper``) consumes every dead-letter queue and, for each message:

1. if it names a job, publishes ``JobFailed(code="gave_up")`` saying it was dead-lettered after
   N deliveries: the normal job-event path, idempotent (a job already finished stays so). A dead
   ``job.failed`` itself is not answered with another one, which could die the same way;
2. parks it, unchanged and with why it died in its headers, in ``<queue>.parked``: nobody
   consumes that queue, an operator inspects it (management UI, ``rabbitmqadmin get``);
3. counts it in ``chatlens_dead_letters_total{queue, reason}`` (the alert
   ``ChatlensMessagesDeadLettered``).

The message is acked only after both publishes are confirmed, so a sweeper that dies halfway
handles it again: the job event is idempotent, the parked copy may exist twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from chatlens.shared import schemas, topology

log = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "chatlens_dead_letters_total",
    "Dead-lettered messages swept from a dead-letter queue (job failed, message parked)",
    ["queue", "reason"],
)

# A work queue's parking queue: ``<queue>.parked``, a quorum queue nobody consumes, declared by
# ``Bus.park`` the first time something is parked there.
PARKED_SUFFIX = ".parked"

# Headers the sweeper adds to a parked message: where and why it died.
REASON_HEADER = "x-chatlens-dead-reason"
QUEUE_HEADER = "x-chatlens-dead-queue"
DELIVERIES_HEADER = "x-chatlens-deliveries"


@dataclass(frozen=True)
class DeadLetter:
    """One message taken from a dead-letter queue, as it was published (never decoded: an
    undecodable message is kept like any other)."""

    queue: str  # the work queue it died in (``ingest``, not ``ingest.dlq``)
    type: str | None
    message_id: str | None
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def parking_queue(self) -> str:
        return f"{self.queue}{PARKED_SUFFIX}"

    @property
    def reason(self) -> str:
        """RabbitMQ's reason: ``delivery_limit`` (returned too often), ``rejected`` (a permanent
        failure), ``expired``, ``maxlen``; ``unknown`` without an ``x-death`` record."""
        first = _header_text(self.headers.get("x-first-death-reason"))
        if first:
            return first
        deaths = self.headers.get("x-death") or []
        if deaths and isinstance(deaths[0], dict):
            return _header_text(deaths[0].get("reason")) or "unknown"
        return "unknown"

    @property
    def deliveries(self) -> int | None:
        """How many times it was delivered before it died, where that is known: the queue's
        delivery limit plus the first delivery for ``delivery_limit``; the broker's count of
        returns plus one otherwise."""
        returned = self.headers.get("x-delivery-count")
        if isinstance(returned, int):
            return returned + 1
        limit = topology.delivery_limit(self.queue)
        if self.reason == "delivery_limit" and limit is not None:
            return limit + 1
        return None

    @property
    def job_id(self) -> str | None:
        """The job the message belongs to, if its body is a JSON object naming one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        job_id = value.get("job_id") if isinstance(value, dict) else None
        return job_id if isinstance(job_id, str) and job_id else None

    def describe(self) -> str:
        """Why the job failed, in words a user and an operator both read."""
        times = f"after {self.deliveries} deliveries" if self.deliveries else "after its deliveries"
        if self.reason == "rejected":
            times = "after it was refused as a permanent failure"
        return (
            f"dead-lettered {times} from {self.queue} ({self.type or 'unknown type'}): the "
            f"service handling it failed each time; the message is kept in "
            f"{self.parking_queue}. Upload it again once the cause is fixed"
        )

    def parked_headers(self) -> dict[str, Any]:
        return {
            **self.headers,
            REASON_HEADER: self.reason,
            QUEUE_HEADER: self.queue,
            DELIVERIES_HEADER: self.deliveries or 0,
        }


def swept_queues(index_replicas: int = 1) -> tuple[topology.QueueSpec, ...]:
    """Every queue with a dead-letter queue (RPC queues have none), the replicas' own included."""
    return tuple(
        spec
        for spec in (*topology.QUEUES, *topology.replicated_queues(index_replicas))
        if not spec.rpc
    )


def _header_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def sweeper(
    publish: Callable[[schemas.Message], None], park: Callable[[DeadLetter], None]
) -> Callable[[DeadLetter], None]:
    """The handler of every dead-letter queue: fail the job, park the message, count it. Any
    exception (the broker away) leaves the message in its dead-letter queue for another try."""

    def sweep(dead: DeadLetter) -> None:
        job_id = dead.job_id
        if job_id is not None and dead.type != schemas.JobFailed.type:
            publish(schemas.JobFailed(job_id=job_id, code="gave_up", reason=dead.describe()))
        park(dead)
        DEAD_LETTERS.labels(dead.queue, dead.reason).inc()
        log.error(
            "dead-lettered message swept",
            extra={
                "queue": dead.queue,
                "type": dead.type,
                "id": dead.message_id,
                "job_id": job_id,
                "reason": dead.reason,
                "deliveries": dead.deliveries,
            },
        )

    return sweep
