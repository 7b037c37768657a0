"""Settings of the inference service, read once from the environment by ``main()``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from chatlens.shared.settings import CommonSettings


class InferenceSettings(CommonSettings):
    # Unset: the service starts its own in-process Dask LocalCluster with one llm worker.
    dask_scheduler_address: str | None = None
    # Unset: the registry shipped in the package (models.toml).
    model_registry: Path | None = None
    # Unset: the first LLM of the registry.
    default_model: str | None = None
    health_port: int = 8104
    # How long a request may wait for the cluster (queueing included) before it counts as failed.
    generation_timeout_s: float = Field(default=120.0, gt=0)
    # Torch CPU threads on each llm worker; 0 means every CPU the worker process may use.
    torch_threads: int = Field(default=0, ge=0)
    # One generation at a time keeps the CPU for it; the second prefetched request waits warm.
    rpc_prefetch: int = Field(default=2, ge=1)
    rpc_workers: int = Field(default=1, ge=1)
