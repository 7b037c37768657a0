"""Wiring: builds the index's parts from settings and a bus. ``__main__`` and the tests share it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import faiss

from chatlens.index import metrics
from chatlens.index.analytics.service import Analytics
from chatlens.index.analytics.topics_cache import TopicsCache
from chatlens.index.analytics.topics_job import TopicsJobs, dask_client
from chatlens.index.browse import Browser
from chatlens.index.cleanup import Cleaner
from chatlens.index.compaction import Compactor
from chatlens.index.config import IndexSettings
from chatlens.index.deletion import Deleter
from chatlens.index.handlers import ingest_handler, jobs_handler, search_handler
from chatlens.index.ingest import Ingestor
from chatlens.index.manifests import ManifestReader
from chatlens.index.people import PeopleGrouper
from chatlens.index.replica import Ownership, guarded, warm
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.index.tags import Tags
from chatlens.index.versions import Versions
from chatlens.shared import topology
from chatlens.shared.bus import Bus, Consumer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexService:
    ingest: Consumer
    search: Consumer
    # Reloads the replica's collections from disk before it consumes (None: load on demand).
    warm: Callable[[], object] | None = None
    # Merges small segments in the background (None: INDEX_COMPACTION_ENABLED is off).
    compactor: Compactor | None = None
    # Analytics jobs (topics), on a queue of their own.
    jobs: Consumer | None = None

    def ready(self) -> bool:
        return self.ingest.ready and self.search.ready and (self.jobs is None or self.jobs.ready)

    def start(self) -> IndexService:
        if self.warm is not None:
            self.warm()
        self.search.start()
        self.ingest.start()
        if self.jobs is not None:
            self.jobs.start()
        if self.compactor is not None:
            self.compactor.start()
        return self

    def stop(self) -> None:
        """Stop taking messages; what is in flight finishes and is acked first."""
        if self.compactor is not None:
            self.compactor.stop()
        if self.jobs is not None:
            self.jobs.stop()
        self.ingest.stop()
        self.search.stop()


def build(settings: IndexSettings, bus: Bus) -> IndexService:
    """The ingest consumer (one worker: one writer per process) and the RPC server (search and
    versions; a restore shares the ingestor's writer lock)."""
    assert settings.index_dir is not None  # filled in by IndexSettings
    faiss.omp_set_num_threads(settings.faiss_threads)  # process-wide, hence here at the root
    layout = Layout(settings.index_dir)
    segments = SegmentCache(
        settings.segment_cache_size,
        on_load=metrics.COLLECTIONS.segment_loaded,
        derived=layout.derived,
    )
    metrics.COLLECTIONS.watch(settings.index_dir)
    ingestor = Ingestor(layout, bus.publish, segments, settings.vector_dim, settings.ann)
    searcher = Searcher(layout, segments)
    versions = Versions(ManifestReader(layout), segments, ingestor)
    ownership = Ownership(settings.index_replica, settings.index_replicas)
    ingest_queue, rpc_queue = topology.index_queues(ownership.replica, ownership.replicas)
    ingest = bus.consumer(
        ingest_queue.name,
        guarded(
            ingest_handler(
                ingestor, Cleaner(layout, TopicsCache(settings.index_dir / "cache" / "topics"))
            ),
            ownership,
        ),
        prefetch=settings.bus_prefetch,
        workers=1,
    )
    topics = TopicsJobs(
        ManifestReader(layout),
        segments,
        TopicsCache(settings.index_dir / "cache" / "topics"),
        bus.publish,
        dask_client(settings.dask_scheduler_address, settings.topics_threads),
    )
    jobs = bus.consumer(
        topology.index_jobs_queue(ownership.replica, ownership.replicas).name,
        guarded(jobs_handler(topics), ownership),
        prefetch=1,
        workers=1,
    )
    browser = Browser(ManifestReader(layout), segments)
    tags = Tags(ManifestReader(layout), ingestor)
    search = bus.rpc_server(
        rpc_queue.name,
        guarded(
            search_handler(
                searcher,
                versions,
                browser,
                tags,
                Deleter(segments, ingestor),
                Analytics(ManifestReader(layout), segments),
                PeopleGrouper(segments, ingestor),
                topics,
            ),
            ownership,
        ),
        prefetch=settings.search_workers,  # one delivery per worker (the default, 4, capped them)
        workers=settings.search_workers,
    )
    log.info(
        "index service built",
        extra={
            "index_dir": str(settings.index_dir),
            "replica": ownership.replica,
            "replicas": ownership.replicas,
        },
    )
    compactor = (
        Compactor(
            layout, segments, ingestor, settings.compaction, settings.ann, owns=ownership.owns
        )
        if settings.index_compaction_enabled
        else None
    )
    return IndexService(
        ingest=ingest,
        search=search,
        jobs=jobs,
        warm=(lambda: warm(layout, segments, ownership)) if settings.warm_on_start else None,
        compactor=compactor,
    )
