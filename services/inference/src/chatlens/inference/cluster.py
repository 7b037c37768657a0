"""The service's side of the Dask cluster: registers the model plugin, reaches the engines.

Generation runs in the batching engine of each ``llm`` worker (``engine.py``); the service talks
to it through one :class:`~chatlens.inference.engine.EngineActor` per worker, spreading requests
over them in turn. :meth:`LlmCluster.open` queues a generation and returns a
:class:`Generation` whose :meth:`~Generation.updates` follow it token by token.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError

from distributed import Client
from distributed.comm import CommClosedError
from distributed.scheduler import KilledWorker

from chatlens.inference.batching import Sampling
from chatlens.inference.engine import EngineActor, Progress
from chatlens.inference.generation import (
    PLUGIN_NAME,
    RESOURCE,
    Completion,
    LlmPlugin,
    chat_turns,
)
from chatlens.inference.registry import ModelSpec
from chatlens.shared import tracing

log = logging.getLogger(__name__)

# What the cluster, rather than the request, is to blame for: worth a retry. TimeoutError covers
# a busy or worker-less cluster, OSError (CommClosedError among them) a lost scheduler.
CLUSTER_ERRORS = (TimeoutError, CancelledError, KilledWorker, CommClosedError, OSError)


class ActorLost(TimeoutError):
    """The worker holding an engine actor died: the engine is gone, the actors are found afresh
    (a cluster error, like a timeout)."""


def _method(actor, name: str):
    """``actor.<name>``. distributed says an actor whose worker died is lost with a plain
    RuntimeError on any attribute; that is a cluster error here, not a failed generation (the
    fault suite found inference answering 502 for good after its llm worker was killed)."""
    try:
        return getattr(actor, name)
    except RuntimeError as exc:
        if "Actor was lost" in str(exc):
            raise ActorLost(str(exc)) from exc
        raise


class GenerationFailed(RuntimeError):
    """The engine ended the request with an error, or stopped under it (a model reload)."""


class LlmCluster:
    """Generation on Dask workers that have the ``llm`` resource."""

    def __init__(
        self,
        client: Client,
        *,
        timeout_s: float,
        poll_s: float = 1.0,
        stream_interval_s: float = 0.0,
    ) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        # After the first token, a poll returns new tokens no sooner than this after it was sent.
        self.stream_interval_s = stream_interval_s
        self._actors: list = []
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._plugin: LlmPlugin | None = None

    def start(
        self, preload: list[ModelSpec], threads: int = 0, max_batch: int = 16, niceness: int = 0
    ) -> None:
        """Register the plugin; returns once every current worker has loaded ``preload``."""
        log.info("loading models on the Dask workers", extra={"models": [s.name for s in preload]})
        self._plugin = LlmPlugin(preload, threads=threads, max_batch=max_batch, niceness=niceness)
        self.client.register_plugin(self._plugin)
        with self._lock:
            self._actors = self._spawn_actors()

    def _spawn_actors(self) -> list:
        """One engine actor on each llm worker (a worker that joins later is used after the next
        cluster error, when the actors are found afresh)."""
        workers = self.client.scheduler_info()["workers"]
        addresses = sorted(
            a for a, info in workers.items() if info.get("resources", {}).get(RESOURCE)
        )
        if not addresses:
            raise TimeoutError("no Dask worker has the llm resource")
        futures = [
            self.client.submit(
                EngineActor, workers=[a], allow_other_workers=False, actor=True, pure=False
            )
            for a in addresses
        ]
        try:
            return [f.result(timeout=self.timeout_s) for f in futures]
        except KeyError as exc:
            if exc.args != (PLUGIN_NAME,) or self._plugin is None:
                raise
            # The workers have no model plugin: their scheduler restarted and forgot the one
            # registered with it (the fault suite found every answer failing so). Register it
            # again; the caller's retry finds the models loaded.
            log.warning("the model plugin is gone from the cluster; registering it again")
            self.client.register_plugin(self._plugin)
            raise TimeoutError(
                "the Dask workers had lost the model plugin; registered again"
            ) from exc

    def _actor(self):
        with self._lock:
            if not self._actors:
                self._actors = self._spawn_actors()
            return self._actors[next(self._turn) % len(self._actors)]

    def _forget_actors(self) -> None:
        with self._lock:
            self._actors = []

    def open(
        self,
        spec: ModelSpec,
        turns: list[dict[str, str]],
        max_new_tokens: int,
        sampling: Sampling | None = None,
    ) -> Generation:
        """Queue a generation on an engine; raises ``PromptTooLong`` or one of
        ``CLUSTER_ERRORS``."""
        actor = self._actor()
        try:
            with tracing.span(
                "dask submit generate",
                "client",
                {"chatlens.model": spec.name, "chatlens.max_new_tokens": max_new_tokens},
            ):
                # The engine runs the generation in a span continuing this one.
                sequence_id, prompt_tokens = _method(actor, "submit")(
                    spec,
                    turns,
                    max_new_tokens,
                    sampling or Sampling(),
                    trace_context=tracing.carrier(),
                ).result(timeout=self.timeout_s)
        except CLUSTER_ERRORS:
            self._forget_actors()
            raise
        return Generation(self, actor, spec.name, sequence_id, prompt_tokens)

    def generate(
        self,
        spec: ModelSpec,
        prompt: str,
        system: str | None,
        max_new_tokens: int,
        *,
        turns: list[dict[str, str]] | None = None,
        sampling: Sampling | None = None,
    ) -> Completion:
        """Generate the whole answer (the engine batches it with whatever else runs)."""
        started = time.perf_counter()
        generation = self.open(spec, turns or chat_turns(prompt, system), max_new_tokens, sampling)
        *_, progress = generation.updates()
        return Completion(
            spec.name,
            progress.text,
            progress.tokens,
            time.perf_counter() - started,
            generation.prompt_tokens,
            progress.finish_reason,
        )

    def ready(self) -> bool:
        return self.client.status == "running"

    def close(self) -> None:
        cluster = self.client.cluster  # the LocalCluster this client started, if any
        self.client.close()
        if cluster is not None:
            cluster.close()


class Generation:
    """One request in an engine, followed by long polls."""

    def __init__(
        self, cluster: LlmCluster, actor, model: str, sequence_id: str, prompt_tokens: int
    ) -> None:
        self.cluster, self.actor, self.model = cluster, actor, model
        self.sequence_id, self.prompt_tokens = sequence_id, prompt_tokens

    def updates(self) -> Iterator[Progress]:
        """Each new state of the request until it ends (the last one has ``finish_reason``).
        Raises ``GenerationFailed``, or ``TimeoutError`` past the cluster's timeout (and then
        cancels the request). Closing the iterator early cancels it too."""
        deadline = time.monotonic() + self.cluster.timeout_s
        since, ended = 0, False
        try:
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"generation took over {self.cluster.timeout_s:.0f}s")
                try:
                    poll = _method(self.actor, "poll")(
                        self.model,
                        self.sequence_id,
                        since,
                        self.cluster.poll_s,
                        self.cluster.stream_interval_s if since else 0.0,
                    )
                    progress = poll.result(timeout=self.cluster.poll_s + self.cluster.timeout_s)
                except CLUSTER_ERRORS:
                    self.cluster._forget_actors()
                    raise
                if progress.finish_reason in ("error", "cancelled"):
                    ended = True
                    raise GenerationFailed(
                        f"generation {progress.finish_reason}: "
                        f"{progress.error or 'the engine stopped'}"
                    )
                ended = progress.finish_reason is not None
                if progress.tokens > since or ended:
                    since = progress.tokens
                    yield progress
                if ended:
                    return
        finally:
            if not ended:
                self.cancel()

    def cancel(self) -> None:
        """Stop the request in its engine (best effort: a lost worker has stopped it anyway)."""
        try:
            _method(self.actor, "cancel")(self.model, self.sequence_id).result(timeout=10)
        except CLUSTER_ERRORS as exc:
            log.warning("could not cancel a generation", extra={"error": repr(exc)})
