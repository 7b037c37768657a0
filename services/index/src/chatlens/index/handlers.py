"""Bus messages in, work out: the index's two consumers and what each message type does.

Errors are left to the bus to sort (``chatlens.shared.bus.Consumer._outcome``): PermanentError
dead-letters a message or answers an RPC with RpcFailed(code), anything else is retried.
"""

from __future__ import annotations

from collections.abc import Callable

from chatlens.index.analytics.service import Analytics
from chatlens.index.analytics.topics_job import TopicsJobs
from chatlens.index.browse import Browser
from chatlens.index.cleanup import Cleaner
from chatlens.index.deletion import Deleter
from chatlens.index.ingest import Ingestor
from chatlens.index.metrics import timed_search
from chatlens.index.people import PeopleGrouper
from chatlens.index.search import Searcher
from chatlens.index.tags import Tags
from chatlens.index.versions import Versions
from chatlens.shared import queues
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.handling import Routes
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
    PeopleMergeRequested,
    SearchRequested,
    TagCreateRequested,
    TagDeleteRequested,
    TagsListRequested,
    TopicsLookup,
    TopicsRequested,
    VersionRestoreRequested,
    VersionsCompareRequested,
    VersionsListRequested,
)


class IngestRoutes(Routes):
    """The index's ingest queue: every route writes, so each runs under the writer's lock, and a
    batch or job refused for good, or failing on its last delivery (``Delivery.last``), fails
    its job."""

    def __init__(self, ingestor: Ingestor, table: dict[type[Message], Callable]) -> None:
        super().__init__(queues.INDEX_INGEST, table)
        self.ingestor = ingestor

    def __call__(self, message: Message, delivery: Delivery) -> object:
        if type(message) not in self.table:
            return super().__call__(message, delivery)  # refused: not ours
        try:
            with self.ingestor.lock:
                return super().__call__(message, delivery)
        except PermanentError as exc:
            if isinstance(message, ChunksEmbedded | EmbeddingFinished):
                self.ingestor.fail(message, exc)
            raise
        except Exception as exc:
            # Requeued, unless this was the queue's last delivery: then the limit moves the
            # message to the dead-letter queue (kept there, then parked), and the job would
            # wait for a batch that never comes; it fails now, saying why.
            if delivery.last and isinstance(message, ChunksEmbedded | EmbeddingFinished):
                self.ingestor.fail(
                    message,
                    PermanentError(
                        "the index could not store this upload after "
                        f"{delivery.delivery_count + 1} "
                        f"attempts ({type(exc).__name__}: {str(exc)[:200]}); upload it again",
                        code="gave_up",
                    ),
                )
            raise


def ingest_handler(ingestor: Ingestor, cleaner: Cleaner | None = None) -> IngestRoutes:
    """The handler of ``topology.INDEX_QUEUE``: ingestion, and the clean-up of abandoned jobs
    and deleted collections (writes too, so under the same lock)."""
    routes: dict[type[Message], Callable] = {
        ChunksEmbedded: ingestor.on_batch,
        EmbeddingFinished: ingestor.on_finished,
    }
    if cleaner is not None:
        routes.update(
            {JobAbandoned: cleaner.on_abandoned, CollectionDeleted: cleaner.on_collection_deleted}
        )
    return IngestRoutes(ingestor, routes)


def search_handler(
    searcher: Searcher,
    versions: Versions | None = None,
    browser: Browser | None = None,
    tags: Tags | None = None,
    deleter: Deleter | None = None,
    analytics: Analytics | None = None,
    people: PeopleGrouper | None = None,
    topics: TopicsJobs | None = None,
) -> Routes:
    """The handler of ``topology.INDEX_RPC``: searches, the version list, compare, restore,
    browsing (a window's messages, the chats and senders), analytics reports, grouping senders
    into people, and reading computed topics."""
    routes: dict[type[Message], Callable] = {SearchRequested: timed_search(searcher.search)}
    if browser is not None:
        routes.update(
            {
                MessagesListRequested: browser.messages,
                FacetsRequested: browser.facets,
                MessageRequested: browser.message,
            }
        )
    if versions is not None:
        routes.update(
            {
                VersionsListRequested: versions.list,
                VersionsCompareRequested: versions.compare,
                VersionRestoreRequested: versions.restore,
            }
        )
    if tags is not None:
        routes.update(
            {
                TagsListRequested: tags.list,
                TagCreateRequested: tags.create,
                TagDeleteRequested: tags.delete,
            }
        )
    if deleter is not None:
        routes[MessagesDeleteRequested] = deleter.delete
    if analytics is not None:
        routes[AnalyticsRequested] = analytics.answer
    if people is not None:
        routes[PeopleMergeRequested] = people.group
    if topics is not None:
        routes[TopicsLookup] = topics.lookup

    return Routes(queues.INDEX_RPC, routes)


def jobs_handler(topics: TopicsJobs) -> Routes:
    """The handler of ``topology.INDEX_JOBS``: analytics jobs that take minutes (topics), on a
    queue of their own so that ingestion never waits for one. They only read committed versions:
    no writer's lock."""
    return Routes(queues.INDEX_JOBS, {TopicsRequested: topics.run}, with_delivery=True)
