"""The index service's settings, read once from the environment by the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from chatlens.index.compaction import CompactionConfig
from chatlens.index.storage.ann import AnnConfig
from chatlens.shared.settings import CommonSettings


class IndexSettings(CommonSettings):
    # Where collections and staged batches live; defaults to <DATA_DIR>/index.
    index_dir: Path | None = None
    health_port: int = 8102
    # Ingest batches are small and handled one at a time; a deeper prefetch keeps the worker fed.
    bus_prefetch: int = Field(default=16, ge=1, le=1000)
    # Dimension of new collections (all-MiniLM-L6-v2); a collection keeps the one it was made with.
    vector_dim: int = Field(default=384, ge=1, le=8192)
    # Loaded segments kept in memory, least recently used dropped first.
    segment_cache_size: int = Field(default=256, ge=1)
    # RPCs handled at once (searches, dashboards, browsing share the queue; each delivery is
    # prefetched). With 2, two dashboards' DuckDB scans (about 100 CPU-ms each, seconds under
    # load) held both and every search queued behind them: index.search p50 328 ms, p99 2.9 s
    # for 4.6 CPU-ms of work in the load bench. DuckDB and faiss release the GIL.
    search_workers: int = Field(default=8, ge=1, le=64)
    # OpenMP threads per faiss search. Concurrency comes from the search workers; threads inside
    # a one-query search only fight them for the cores (100k vectors, 2 busy cores: p50 52 ms
    # with faiss's default, 8.6 ms with 1).
    faiss_threads: int = Field(default=1, ge=1, le=256)
    # Segments with at least this many vectors get an HNSW index when sealed (``storage.ann``);
    # smaller ones stay exact. M, efConstruction and efSearch as measured in the README
    # (efConstruction 100, efSearch 128: recall@10 0.998 against exact search at 100k rows).
    index_ann_min_vectors: int = Field(default=20_000, ge=1)
    index_ann_m: int = Field(default=16, ge=4, le=128)
    index_ann_ef_construction: int = Field(default=100, ge=8, le=1024)
    index_ann_ef_search: int = Field(default=128, ge=8, le=4096)
    # Background compaction (``compaction``): when a collection has more than MAX_SMALL_SEGMENTS
    # segments of fewer than SMALL_SEGMENT_MESSAGES messages, they are merged into one.
    index_compaction_enabled: bool = True
    index_compaction_max_small_segments: int = Field(default=8, ge=1)
    index_compaction_small_segment_messages: int = Field(default=20_000, ge=1)
    index_compaction_interval_s: float = Field(default=30.0, gt=0)
    # Which of the INDEX_REPLICAS replicas this process is (0-based): it consumes that replica's
    # queues and owns the collections ``topology.index_replica`` assigns to it.
    index_replica: int = Field(default=0, ge=0)
    # Load the owned collections' live segments into the cache before consuming, so the first
    # searches after a (re)start do not pay for it.
    warm_on_start: bool = True
    # Topics jobs run on Dask: the cluster at this address, or (None) an in-process LocalCluster
    # with TOPICS_THREADS threads, started on the first job.
    dask_scheduler_address: str | None = None
    topics_threads: int = Field(default=2, ge=1, le=256)

    @property
    def ann(self) -> AnnConfig:
        return AnnConfig(
            min_vectors=self.index_ann_min_vectors,
            m=self.index_ann_m,
            ef_construction=self.index_ann_ef_construction,
            ef_search=self.index_ann_ef_search,
        )

    @property
    def compaction(self) -> CompactionConfig:
        return CompactionConfig(
            enabled=self.index_compaction_enabled,
            max_small_segments=self.index_compaction_max_small_segments,
            small_segment_messages=self.index_compaction_small_segment_messages,
            interval_s=self.index_compaction_interval_s,
        )

    @model_validator(mode="after")
    def _default_index_dir(self) -> IndexSettings:
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        if self.index_replica >= self.index_replicas:
            raise ValueError(
                f"INDEX_REPLICA {self.index_replica} is not below "
                f"INDEX_REPLICAS {self.index_replicas}"
            )
        return self
