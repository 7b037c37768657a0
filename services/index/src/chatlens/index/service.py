"""Wiring: builds the index's parts from settings and a bus. ``__main__`` and the tests share it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faiss

from chatlens.index.config import IndexSettings
from chatlens.index.handlers import ingest_handler, search_handler
from chatlens.index.ingest import Ingestor
from chatlens.index.manifests import ManifestReader
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.index.versions import Versions
from chatlens.shared import topology
from chatlens.shared.bus import Bus, Consumer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexService:
    ingest: Consumer
    search: Consumer

    def ready(self) -> bool:
        return self.ingest.ready and self.search.ready

    def start(self) -> IndexService:
        self.search.start()
        self.ingest.start()
        return self

    def stop(self) -> None:
        """Stop taking messages; what is in flight finishes and is acked first."""
        self.ingest.stop()
        self.search.stop()


def build(settings: IndexSettings, bus: Bus) -> IndexService:
    """The ingest consumer (one worker: one writer per process) and the RPC server (search and
    versions; a restore shares the ingestor's writer lock)."""
    assert settings.index_dir is not None  # filled in by IndexSettings
    faiss.omp_set_num_threads(settings.faiss_threads)  # process-wide, hence here at the root
    layout = Layout(settings.index_dir)
    segments = SegmentCache(settings.segment_cache_size)
    ingestor = Ingestor(layout, bus.publish, segments, settings.vector_dim)
    searcher = Searcher(layout, segments)
    versions = Versions(ManifestReader(layout), segments, ingestor)
    ingest = bus.consumer(topology.INDEX_QUEUE.name, ingest_handler(ingestor),
                          prefetch=settings.bus_prefetch, workers=1)
    search = bus.rpc_server(topology.INDEX_RPC.name, search_handler(searcher, versions),
                            workers=settings.search_workers)
    log.info("index service built", extra={"index_dir": str(settings.index_dir)})
    return IndexService(ingest=ingest, search=search)
