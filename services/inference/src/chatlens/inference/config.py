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
    # Torch CPU threads on each llm worker; 0 means every CPU the worker process may use but one
    # (left to the decode loop's Python work, the handlers and the bus).
    torch_threads: int = Field(default=0, ge=0)
    # Summaries: tokens of messages per map step (small models summarise short inputs better, and
    # a step's time grows with it), and the most map steps one summary may take (the bound that
    # keeps it inside the gateway's wait; a larger window is refused with its numbers).
    summary_chunk_tokens: int = Field(default=1536, ge=256)
    summary_max_chunks: int = Field(default=16, ge=1)
    # Requests generated together by a worker's engine (continuous batching): one decode step
    # runs them all, so eight cost little more than one until the machine is compute-bound.
    llm_max_batch: int = Field(default=16, ge=1, le=256)
    # Added to the decode loop's nice value (its torch threads inherit it): on shared cores the
    # searches, dashboards and the bus go first and generation takes what is left; 0 on a
    # machine that does nothing else (a GPU worker's loop mostly waits on the GPU anyway).
    llm_niceness: int = Field(default=10, ge=0, le=19)
    # Handler threads mostly wait on the engine while it generates: as many as it batches, so
    # concurrent requests reach it together; prefetch as many, so none waits in the queue.
    rpc_prefetch: int = Field(default=16, ge=1)
    rpc_workers: int = Field(default=16, ge=1)
    # A stream's tokens travel (engine → service → RabbitMQ → gateway → client) at most this
    # often, several at a time; the first token and the end go at once. Every message costs the
    # CPU the decode loop runs on: with 8 streams at once on 2 cores, 0.2 s raised throughput
    # from 82 to 90 tokens/s.
    stream_interval_s: float = Field(default=0.2, ge=0, le=5)
    # Org endpoints (OpenAI-compatible providers): their keys are read from auth's internal route
    # (AUTH_URL, with auth's INTERNAL_TOKEN; unset: only endpoints without a key work), kept for
    # provider_key_ttl_s. Each call waits provider_timeout_s (per connect and per read: a long
    # answer streams) and is retried provider_max_retries times with backoff on connection
    # errors, 429 and 5xx (the openai client's own retries). Three tries of 30 s and the backoff
    # end before the gateway's GENERATION_TIMEOUT_S (120 s) gives up on the request.
    auth_url: str = "http://127.0.0.1:8101"
    internal_token: str = ""
    provider_key_ttl_s: float = Field(default=60.0, ge=0, le=3600)
    provider_timeout_s: float = Field(default=30.0, gt=0, le=600)
    provider_max_retries: int = Field(default=2, ge=0, le=10)
