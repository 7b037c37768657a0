"""The index service's settings, read once from the environment by the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

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
    search_workers: int = Field(default=2, ge=1, le=64)
    # OpenMP threads per faiss search. Concurrency comes from the search workers; threads inside
    # a one-query search only fight them for the cores (100k vectors, 2 busy cores: p50 52 ms
    # with faiss's default, 8.6 ms with 1).
    faiss_threads: int = Field(default=1, ge=1, le=256)

    @model_validator(mode="after")
    def _default_index_dir(self) -> IndexSettings:
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        return self
