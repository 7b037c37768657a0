"""The gateway's readiness (``/readyz``): its database answers, and every service it calls over
the bus has a consumer on its RPC queue (the embedding worker, each index replica, inference).

A gateway whose index is down (SIGKILLed, say) answers 503 here, so a load balancer or
Kubernetes sends no traffic its way and ``chatlens status`` tells the truth; requests that do
arrive meanwhile get a ``503`` with ``Retry-After`` at once (the bus refuses an RPC whose queue
nobody consumes) instead of waiting out their deadline. ``READY_REQUIRES_SERVICES=false`` keeps
readiness to the database alone (for a gateway that should serve auth and uploads whatever the
services behind it do).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, text

from chatlens.shared import topology
from chatlens.shared.bus import Bus

log = logging.getLogger(__name__)


def rpc_queues(index_replicas: int) -> list[str]:
    """The RPC queues of the services the gateway calls."""
    index = [
        topology.index_queues(replica, index_replicas)[1].name for replica in range(index_replicas)
    ]
    return [topology.EMBEDDING_RPC.name, *index, topology.INFERENCE_RPC.name]


def readiness(
    engine: Engine, bus: Bus, index_replicas: int, *, services: bool = True
) -> Callable[[], bool]:
    """The check ``/readyz`` runs (see the module)."""

    def ready() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not services:
            return True
        missing = [queue for queue in rpc_queues(index_replicas) if not bus.consumers(queue)]
        if missing:
            log.warning("not ready: no service consumes %s", ", ".join(missing))
        return not missing

    return ready
