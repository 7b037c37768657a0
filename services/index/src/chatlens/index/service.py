"""Wiring: builds the index's parts from settings and a bus. ``__main__`` and the tests share it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatlens.index.config import IndexSettings
from chatlens.index.handlers import ingest_handler, search_handler
from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
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
    """The ingest consumer (one worker: one writer per process) and the search RPC server."""
    assert settings.index_dir is not None  # filled in by IndexSettings
    layout = Layout(settings.index_dir)
    segments = SegmentCache(settings.segment_cache_size)
    ingestor = Ingestor(layout, bus.publish, segments, settings.vector_dim)
    searcher = Searcher(layout, segments)
    ingest = bus.consumer(topology.INDEX_QUEUE.name, ingest_handler(ingestor),
                          prefetch=settings.bus_prefetch, workers=1)
    search = bus.rpc_server(topology.INDEX_RPC.name, search_handler(searcher),
                            workers=settings.search_workers)
    log.info("index service built", extra={"index_dir": str(settings.index_dir)})
    return IndexService(ingest=ingest, search=search)
