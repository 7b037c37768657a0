"""The service's side of the Dask cluster: registers the model plugin and submits generations."""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError

from distributed import Client
from distributed.comm import CommClosedError
from distributed.scheduler import KilledWorker

from chatlens.inference.generation import RESOURCE, Completion, LlmPlugin, run_generation
from chatlens.inference.registry import ModelSpec

log = logging.getLogger(__name__)

# What the cluster, rather than the request, is to blame for: worth a retry. TimeoutError covers
# a busy or worker-less cluster, OSError (CommClosedError among them) a lost scheduler.
CLUSTER_ERRORS = (TimeoutError, CancelledError, KilledWorker, CommClosedError, OSError)


class LlmCluster:
    """Generation on Dask workers that have the ``llm`` resource."""

    def __init__(self, client: Client, *, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def start(self, preload: list[ModelSpec], threads: int = 0) -> None:
        """Register the plugin; returns once every current worker has loaded ``preload``."""
        log.info("loading models on the Dask workers", extra={"models": [s.name for s in preload]})
        self.client.register_plugin(LlmPlugin(preload, threads=threads))

    def generate(self, spec: ModelSpec, prompt: str, system: str | None,
                 max_new_tokens: int) -> Completion:
        """Generate on the cluster; raises one of ``CLUSTER_ERRORS`` or the task's own error."""
        future = self.client.submit(run_generation, spec, prompt, system, max_new_tokens,
                                    resources={RESOURCE: 1}, pure=False)
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            future.cancel()  # nobody will wait for it; free the worker for the next request
            raise

    def ready(self) -> bool:
        return self.client.status == "running"

    def close(self) -> None:
        cluster = self.client.cluster  # the LocalCluster this client started, if any
        self.client.close()
        if cluster is not None:
            cluster.close()
