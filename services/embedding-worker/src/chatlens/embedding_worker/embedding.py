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
import threading
import uuid
from collections.abc import Callable, Sequence

import numpy as np
from distributed import Client, Future, WorkerPlugin, get_worker

from chatlens.embedding_worker import metrics
from chatlens.embedding_worker.encoders import (
    DIMENSIONS,
    Backend,
    Encoder,
    encode_unique,
    load_encoder,
    resolve,
)
from chatlens.shared import tracing
from chatlens.shared.bus import TransientError

log = logging.getLogger(__name__)

PLUGIN_NAME = "chatlens-embedder"
MODEL_NAME = "all-MiniLM-L6-v2"
RESOURCES = {"embed": 1}
# Query embeddings are interactive: they overtake queued ingest batches (not running ones).
QUERY_PRIORITY = 10
# How long a task that reached a worker still loading its model waits for it.
LOAD_WAIT_S = 300.0


class EmbedderPlugin(WorkerPlugin):
    """Holds one encoder per Dask worker, loaded when the worker sets the plugin up."""

    name = PLUGIN_NAME
    # A second embedding-worker replica registering the plugin must not reload every model.
    idempotent = True

    def __init__(
        self,
        model_dir: str,
        *,
        backend: Backend = "torch",
        onnx_dir: str | None = None,
        device: str | None = None,
        torch_threads: int | None = None,
        encode_batch_size: int = 64,
    ) -> None:
        self.model_dir = model_dir
        self.backend: Backend = backend
        self.onnx_dir = onnx_dir
        self.device = device
        self.torch_threads = torch_threads
        self.encode_batch_size = encode_batch_size
        self.model: Encoder | None = None
        self._loaded = threading.Event()

    def __getstate__(self) -> dict:
        # The model never travels: each worker loads its own.
        state = {**self.__dict__, "model": None}
        state.pop("_loaded", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._loaded = threading.Event()

    async def setup(self, worker) -> None:
        # Loading takes seconds; do it off the worker's event loop so it keeps heartbeating.
        await asyncio.get_running_loop().run_in_executor(None, self.load)
        log.info(
            "embedding model loaded",
            extra={
                "worker": worker.address,
                "model": MODEL_NAME,
                "backend": resolve(self.backend, self.device),  # what "auto" chose here
            },
        )

    def load(self) -> None:
        model = load_encoder(
            self.backend,
            self.model_dir,
            onnx_dir=self.onnx_dir,
            device=self.device,
            threads=self.torch_threads,
            batch_size=self.encode_batch_size,
        )
        # The first pass pays for lazy initialisation (kernels, thread pools): here, not on the
        # first batch or query a user waits for.
        model.encode(["warm-up"])
        self.model = model
        self._loaded.set()

    def teardown(self, worker) -> None:
        self.model = None
        self._loaded.clear()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # Dask lists a worker that joins later, and gives it tasks, while its plugin is still
        # loading the model: such a task waits for the model instead of failing.
        if self.model is None and not self._loaded.wait(LOAD_WAIT_S):
            raise RuntimeError("the embedding model is not loaded on this worker")
        assert self.model is not None
        return encode_unique(self.model, texts)


def model_loaded(dask_worker) -> bool:
    """Run on a Dask worker: has its plugin loaded (and warmed) the model?"""
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    return plugin is not None and getattr(plugin, "model", None) is not None


def embed_texts(texts: Sequence[str], trace_context: dict[str, str] | None = None) -> np.ndarray:
    """The Dask task: unit-length float32 embeddings of ``texts``, one row each, in a span
    continuing the submitter's (``trace_context``: :func:`~chatlens.shared.tracing.carrier`)."""
    with tracing.serving(trace_context, "embed_texts", {"chatlens.texts": len(texts)}):
        return get_worker().plugins[PLUGIN_NAME].encode(texts)


def register(client: Client, model_dir: str, **options) -> None:
    """Load the model on every worker of ``client``'s cluster, now and on those that join."""
    client.register_plugin(EmbedderPlugin(model_dir, **options), name=PLUGIN_NAME)


class Embedder:
    """The client side: submits batches of texts to the cluster and collects their vectors.

    Anything that goes wrong in Dask (a lost worker, a timeout, a failed task) comes back as
    :class:`TransientError`, which the bus retries and then requeues.
    """

    def __init__(
        self,
        client: Client,
        *,
        timeout_s: float = 600.0,
        local: Encoder | None = None,
        local_max_texts: int = 8,
        on_lost_plugin: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        # Registers the model's plugin again: a scheduler that restarted forgot it.
        self.on_lost_plugin = on_lost_plugin
        self.timeout_s = timeout_s
        # The in-process model for queries (None: queries go to Dask like documents).
        self.local = local
        self.local_max_texts = local_max_texts
        self._model_seen = False  # a Dask worker has been seen with its model loaded

    def submit(self, texts: Sequence[str], *, priority: int = 0) -> Future:
        key = f"embed-{uuid.uuid4().hex}"
        with tracing.span(
            "dask submit embed_texts",
            "client",
            {"dask.key": key, "chatlens.texts": len(texts), "dask.priority": priority},
        ):
            try:
                return self.client.submit(
                    embed_texts,
                    list(texts),
                    trace_context=tracing.carrier(),  # the worker's span continues this one
                    resources=RESOURCES,
                    priority=priority,
                    key=key,
                    pure=False,
                )
            except Exception as exc:  # a closed client or a lost scheduler: retry later
                raise TransientError(f"could not submit to Dask: {exc!r}") from exc

    def result(self, future: Future) -> np.ndarray:
        try:
            with tracing.span("dask result embed_texts", "client", {"dask.key": str(future.key)}):
                return future.result(timeout=self.timeout_s)
        except Exception as exc:
            future.cancel()
            if (
                isinstance(exc, KeyError)
                and exc.args == (PLUGIN_NAME,)
                and self.on_lost_plugin is not None
            ):
                # The worker has no model plugin: its scheduler restarted and forgot the plugin
                # registered with it (the fault suite found every batch failing so). Register
                # it again; the retry finds the model loaded.
                log.warning("the model plugin is gone from the cluster; registering it again")
                self.on_lost_plugin()
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
        """True while the cluster has a worker that can embed, once one has its model loaded.

        A worker that joins is listed with its ``embed`` resource before its plugin has loaded
        the model, so the resource alone would say ready seconds (tens on a busy machine) too
        early and the first tasks would wait for the load."""
        if self.client.status != "running":
            return False
        workers = self.client.scheduler_info().get("workers", {})
        embedding = [
            address for address, w in workers.items() if w.get("resources", {}).get("embed")
        ]
        if not embedding:
            return False
        if not self._model_seen:
            loaded = self.client.run(model_loaded, workers=embedding, on_error="return")
            self._model_seen = any(value is True for value in loaded.values())
        return self._model_seen
