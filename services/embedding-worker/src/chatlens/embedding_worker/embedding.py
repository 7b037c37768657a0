"""all-MiniLM-L6-v2 on the Dask cluster, loaded once per Dask worker.

The client registers :class:`EmbedderPlugin`; every worker (those there now and those that join
later) unpickles it and loads the model in ``setup``, and keeps it on the plugin. Tasks
(:func:`embed_texts`) find it through ``get_worker().plugins[PLUGIN_NAME]``, so a batch of texts
is all that travels to a worker, never the model. Tasks ask for the ``embed`` resource, so they
land only on workers started with it (``dask worker --resources embed=1``, one per GPU).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Sequence

import numpy as np
from distributed import Client, Future, WorkerPlugin, get_worker

from chatlens.shared.bus import TransientError

log = logging.getLogger(__name__)

PLUGIN_NAME = "chatlens-embedder"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
RESOURCES = {"embed": 1}
# Query embeddings are interactive: they overtake queued ingest batches (not running ones).
QUERY_PRIORITY = 10


class EmbedderPlugin(WorkerPlugin):
    """Holds one SentenceTransformer per Dask worker, loaded when the worker sets the plugin up."""

    name = PLUGIN_NAME
    # A second embedding-worker replica registering the plugin must not reload every model.
    idempotent = True

    def __init__(self, model_dir: str, *, device: str | None = None,
                 torch_threads: int | None = None, encode_batch_size: int = 64) -> None:
        self.model_dir = model_dir
        self.device = device
        self.torch_threads = torch_threads
        self.encode_batch_size = encode_batch_size
        self.model = None

    def __getstate__(self) -> dict:
        # The model never travels: each worker loads its own.
        return {**self.__dict__, "model": None}

    async def setup(self, worker) -> None:
        # Loading takes seconds; do it off the worker's event loop so it keeps heartbeating.
        await asyncio.get_running_loop().run_in_executor(None, self.load)
        log.info("embedding model loaded", extra={"worker": worker.address, "model": MODEL_NAME})

    def load(self) -> None:
        # Set in the worker's own process: the model is on disk and nothing may be downloaded.
        os.environ["HF_HUB_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer

        if self.torch_threads:
            # Dask's nanny starts workers with OMP_NUM_THREADS=1; a CPU worker may want more.
            torch.set_num_threads(self.torch_threads)
        self.model = SentenceTransformer(self.model_dir, device=self.device)

    def teardown(self, worker) -> None:
        self.model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the embedding model is not loaded on this worker")
        vectors = self.model.encode(
            list(texts), batch_size=self.encode_batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """The Dask task: unit-length float32 embeddings of ``texts``, one row each."""
    return get_worker().plugins[PLUGIN_NAME].encode(texts)


def register(client: Client, model_dir: str, **options) -> None:
    """Load the model on every worker of ``client``'s cluster, now and on those that join."""
    client.register_plugin(EmbedderPlugin(model_dir, **options), name=PLUGIN_NAME)


class Embedder:
    """The client side: submits batches of texts to the cluster and collects their vectors.

    Anything that goes wrong in Dask (a lost worker, a timeout, a failed task) comes back as
    :class:`TransientError`, which the bus retries and then requeues.
    """

    def __init__(self, client: Client, *, timeout_s: float = 600.0) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def submit(self, texts: Sequence[str], *, priority: int = 0) -> Future:
        try:
            return self.client.submit(
                embed_texts, list(texts), resources=RESOURCES, priority=priority,
                key=f"embed-{uuid.uuid4().hex}", pure=False,
            )
        except Exception as exc:  # a closed client or a lost scheduler: worth a retry later
            raise TransientError(f"could not submit to Dask: {exc!r}") from exc

    def result(self, future: Future) -> np.ndarray:
        try:
            return future.result(timeout=self.timeout_s)
        except Exception as exc:
            future.cancel()
            raise TransientError(f"embedding on Dask failed: {exc!r}") from exc

    def embed(self, texts: Sequence[str], *, priority: int = 0) -> np.ndarray:
        """Embed one batch and wait for it."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return self.result(self.submit(texts, priority=priority))

    def ready(self) -> bool:
        """True while the cluster has a worker that can embed."""
        if self.client.status != "running":
            return False
        workers = self.client.scheduler_info().get("workers", {}).values()
        return any(w.get("resources", {}).get("embed") for w in workers)
