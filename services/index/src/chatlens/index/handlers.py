"""Bus messages in, work out: the index's two consumers and what each message type does.

Errors are left to the bus to sort (``chatlens.shared.bus.Consumer._outcome``): PermanentError
dead-letters a message or answers an RPC with RpcFailed(code), anything else is retried.
"""

from __future__ import annotations

from collections.abc import Callable

from chatlens.index.analytics.service import Analytics
from chatlens.index.browse import Browser
from chatlens.index.cleanup import Cleaner
from chatlens.index.deletion import Deleter
from chatlens.index.ingest import Ingestor
from chatlens.index.metrics import timed_search
from chatlens.index.search import Searcher
from chatlens.index.tags import Tags
from chatlens.index.versions import Versions
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    AnalyticsRequested,
    ChunksEmbedded,
    CollectionDeleted,
    EmbeddingFinished,
    FacetsRequested,
    JobAbandoned,
    Message,
    MessageRequested,
    MessagesDeleteRequested,
    MessagesListRequested,
    SearchRequested,
    TagCreateRequested,
    TagDeleteRequested,
    TagsListRequested,
    VersionRestoreRequested,
    VersionsCompareRequested,
    VersionsListRequested,
)


def ingest_handler(ingestor: Ingestor,
                   cleaner: Cleaner | None = None) -> Callable[[Message, Delivery], None]:
    """The handler of ``topology.INDEX_QUEUE``: ingestion, and the clean-up of abandoned jobs
    and deleted collections (writes too, so under the same lock)."""
    routes: dict[type[Message], Callable] = {
        ChunksEmbedded: ingestor.on_batch,
        EmbeddingFinished: ingestor.on_finished,
    }
    if cleaner is not None:
        routes.update({JobAbandoned: cleaner.on_abandoned,
                       CollectionDeleted: cleaner.on_collection_deleted})

    def handle(message: Message, delivery: Delivery) -> None:
        route = routes.get(type(message))
        if route is None:
            raise PermanentError(f"the index does not ingest {message.type}")
        try:
            with ingestor.lock:
                route(message)
        except PermanentError as exc:
            if isinstance(message, ChunksEmbedded | EmbeddingFinished):
                ingestor.fail(message, exc)
            raise

    return handle


def search_handler(searcher: Searcher, versions: Versions | None = None,
                   browser: Browser | None = None, tags: Tags | None = None,
                   deleter: Deleter | None = None,
                   analytics: Analytics | None = None) -> Callable[[Message, Delivery], Message]:
    """The handler of ``topology.INDEX_RPC``: searches, the version list, compare, restore,
    browsing (a window's messages, the chats and senders), and analytics reports."""
    routes: dict[type[Message], Callable] = {SearchRequested: timed_search(searcher.search)}
    if browser is not None:
        routes.update({MessagesListRequested: browser.messages, FacetsRequested: browser.facets,
                       MessageRequested: browser.message})
    if versions is not None:
        routes.update({VersionsListRequested: versions.list,
                       VersionsCompareRequested: versions.compare,
                       VersionRestoreRequested: versions.restore})
    if tags is not None:
        routes.update({TagsListRequested: tags.list, TagCreateRequested: tags.create,
                       TagDeleteRequested: tags.delete})
    if deleter is not None:
        routes[MessagesDeleteRequested] = deleter.delete
    if analytics is not None:
        routes[AnalyticsRequested] = analytics.answer

    def handle(message: Message, delivery: Delivery) -> Message:
        route = routes.get(type(message))
        if route is None:
            raise PermanentError(f"the index does not answer {message.type}")
        return route(message)

    return handle
