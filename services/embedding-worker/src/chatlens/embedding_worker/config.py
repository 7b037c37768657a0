"""The embedding worker's settings, read from the environment once, in ``main()``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from chatlens.embedding_worker.encoders import Backend
from chatlens.shared.settings import ArchiveSettings


class EmbeddingSettings(ArchiveSettings):
    """Environment variables are the field names, upper-cased (``UPLOAD_DIR``, ...). Zip uploads
    are read within the same ``ARCHIVE_*`` limits the gateway checked them against."""

    # The upload store the gateway writes to; ``IngestRequested.upload_key`` is relative to it.
    upload_dir: Path | None = None
    # Unset: an in-process Dask LocalCluster; set: join that scheduler's workers.
    dask_scheduler_address: str | None = None
    # Messages per published batch and per Dask task.
    batch_size: int = Field(default=512, ge=1, le=4096)
    # Batches submitted ahead of the one being published, so the worker never waits for us.
    pipeline_depth: int = Field(default=2, ge=1, le=16)
    # How long one Dask task may take before the job is retried.
    embed_timeout_s: float = Field(default=600.0, gt=0)
    # torch threads on each Dask worker; unset keeps torch's default (the nanny sets 1).
    embed_torch_threads: int | None = Field(default=None, ge=1)
    # "cpu", "cuda", ...; unset lets sentence-transformers pick (the ONNX backends use CUDA
    # only when told "cuda" and onnxruntime-gpu is installed).
    embed_device: str | None = None
    # The model's runtime: "torch" (sentence-transformers), "onnx-fp32" or "onnx-int8" (ONNX
    # Runtime; the models `make setup` builds), or "auto": what `make eval`'s accuracy gate
    # decided for the CPU the model runs on (int8 with VNNI, else ONNX fp32; torch on CUDA:
    # encoders.resolve, docs/embedding-backends.md).
    embedding_backend: Backend = "auto"
    # Where the ONNX models are; unset: where `make setup` builds them (inside the venv).
    embed_onnx_dir: Path | None = None
    # Query batches of at most this many texts are embedded in this process with its own copy
    # of the model (no Dask task); larger ones, and every ingest batch, go to Dask. 0: all to Dask.
    query_in_process_max: int = Field(default=8, ge=0, le=256)
    # Threads for the in-process query model: one short text gains nothing from more, and it
    # shares the cores with the Dask worker's ingest batches.
    query_threads: int = Field(default=1, ge=1)
    # Query texts whose vectors are kept (LRU): a search's later pages, a question asked again,
    # a search across versions or collections embed the same text. 0 turns the cache off.
    query_cache_size: int = Field(default=4096, ge=0)
    health_port: int = 8103

    @model_validator(mode="after")
    def _default_upload_dir(self) -> EmbeddingSettings:
        if self.upload_dir is None:
            self.upload_dir = self.data_dir / "uploads"
        return self
