"""all-MiniLM-L6-v2 on the Dask cluster, loaded once per Dask worker; queries in-process.

The client registers :class:`EmbedderPlugin`; every worker (those there now and those that join
later) unpickles it and loads the model in ``setup`` with the configured backend
(:mod:`~chatlens.embedding_worker.encoders`: torch, ONNX fp32 or int8), and keeps it on the
plugin. Tasks (:func:`embed_texts`) find it through ``get_worker().plugins[PLUGIN_NAME]``, so a
batch of texts is all that travels to a worker, never the model. Tasks ask for the ``embed``
resource, so they land only on workers started with it (``dask worker --resources embed=1``,
one per GPU).

A search query is one short text: a Dask task (scheduling, a thread hop, a wait behind a running
ingest batch) costs more than embedding it. :class:`Embedder` answers small query batches with
its own in-process copy of the same model and backend (``local``), and sends documents to Dask.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence

import numpy as np
from distributed import Client, Future, WorkerPlugin, get_worker

from chatlens.embedding_worker import metrics
from chatlens.embedding_worker.encoders import (
    DIMENSIONS,
    Backend,
    Encoder,
    encode_unique,
    load_encoder,
)
from chatlens.shared.bus import TransientError

log = logging.getLogger(__name__)

PLUGIN_NAME = "chatlens-embedder"
MODEL_NAME = "all-MiniLM-L6-v2"
RESOURCES = {"embed": 1}
# Query embeddings are interactive: they overtake queued ingest batches (not running ones).
QUERY_PRIORITY = 10


class EmbedderPlugin(WorkerPlugin):
    """Holds one encoder per Dask worker, loaded when the worker sets the plugin up."""

    name = PLUGIN_NAME
    # A second embedding-worker replica registering the plugin must not reload every model.
    idempotent = True

    def __init__(self, model_dir: str, *, backend: Backend = "torch", onnx_dir: str | None = None,
                 device: str | None = None, torch_threads: int | None = None,
                 encode_batch_size: int = 64) -> None:
        self.model_dir = model_dir
        self.backend: Backend = backend
        self.onnx_dir = onnx_dir
        self.device = device
        self.torch_threads = torch_threads
        self.encode_batch_size = encode_batch_size
        self.model: Encoder | None = None

    def __getstate__(self) -> dict:
        # The model never travels: each worker loads its own.
        return {**self.__dict__, "model": None}

    async def setup(self, worker) -> None:
        # Loading takes seconds; do it off the worker's event loop so it keeps heartbeating.
        await asyncio.get_running_loop().run_in_executor(None, self.load)
        log.info("embedding model loaded", extra={"worker": worker.address, "model": MODEL_NAME})

    def load(self) -> None:
        self.model = load_encoder(self.backend, self.model_dir, onnx_dir=self.onnx_dir,
                                  device=self.device, threads=self.torch_threads,
                                  batch_size=self.encode_batch_size)

    def teardown(self, worker) -> None:
        self.model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the embedding model is not loaded on this worker")
        return encode_unique(self.model, texts)


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

    def __init__(self, client: Client, *, timeout_s: float = 600.0, local: Encoder | None = None,
                 local_max_texts: int = 8) -> None:
        self.client = client
        self.timeout_s = timeout_s
        # The in-process model for queries (None: queries go to Dask like documents).
        self.local = local
        self.local_max_texts = local_max_texts

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

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed query texts: in this process when there are few (no Dask task to schedule, no
        wait behind a running ingest batch), else on Dask ahead of queued ingest batches."""
        if self.local is not None and 0 < len(texts) <= self.local_max_texts:
            metrics.QUERY_PATH.labels("in-process").inc()
            return encode_unique(self.local, texts)
        metrics.QUERY_PATH.labels("dask").inc()
        return self.embed(texts, priority=QUERY_PRIORITY)

    def ready(self) -> bool:
        """True while the cluster has a worker that can embed."""
        if self.client.status != "running":
            return False
        workers = self.client.scheduler_info().get("workers", {}).values()
        return any(w.get("resources", {}).get("embed") for w in workers)
