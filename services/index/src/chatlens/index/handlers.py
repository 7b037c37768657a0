"""Bus messages in, work out: the index's two consumers and what each message type does.

Errors are left to the bus to sort (``chatlens.shared.bus.Consumer._outcome``): PermanentError
dead-letters a message or answers an RPC with RpcFailed(code), anything else is retried.
"""

from __future__ import annotations

from collections.abc import Callable

from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.versions import Versions
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    ChunksEmbedded,
    EmbeddingFinished,
    Message,
    SearchRequested,
    VersionRestoreRequested,
    VersionsCompareRequested,
    VersionsListRequested,
)


def ingest_handler(ingestor: Ingestor) -> Callable[[Message, Delivery], None]:
    """The handler of ``topology.INDEX_QUEUE``."""
    routes: dict[type[Message], Callable] = {
        ChunksEmbedded: ingestor.on_batch,
        EmbeddingFinished: ingestor.on_finished,
    }

    def handle(message: Message, delivery: Delivery) -> None:
        route = routes.get(type(message))
        if route is None:
            raise PermanentError(f"the index does not ingest {message.type}")
        try:
            with ingestor.lock:
                route(message)
        except PermanentError as exc:
            ingestor.fail(message, exc)  # type: ignore[arg-type]  # both routed types have job_id
            raise

    return handle


def search_handler(searcher: Searcher,
                   versions: Versions | None = None) -> Callable[[Message, Delivery], Message]:
    """The handler of ``topology.INDEX_RPC``: searches, and the version list, compare, restore."""
    routes: dict[type[Message], Callable] = {SearchRequested: searcher.search}
    if versions is not None:
        routes.update({VersionsListRequested: versions.list,
                       VersionsCompareRequested: versions.compare,
                       VersionRestoreRequested: versions.restore})

    def handle(message: Message, delivery: Delivery) -> Message:
        route = routes.get(type(message))
        if route is None:
            raise PermanentError(f"the index does not answer {message.type}")
        return route(message)

    return handle
