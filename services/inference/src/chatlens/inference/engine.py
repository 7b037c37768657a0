"""The generation engine of an ``llm`` Dask worker, and the Dask actor that talks to it.

Each model a worker holds gets one :class:`Engine`: a thread that runs the continuous-batching
loop (``batching.Batch``) over every request for that model, whichever service replica sent it.
The inference service reaches it through :class:`EngineActor`, one Dask actor per ``llm``
worker: ``submit`` queues a request and returns its id at once, ``poll`` long-polls for what it
has produced since the caller last looked (the tokens so far, and the end), ``cancel`` drops it.
Each request runs in a span (``generate``) from the actor's ``submit`` to its end in the decode
loop, continuing the service's ``dask submit generate`` span, with the tokens it generated.

Why an actor: the engine is state (KV caches, the running batch) that lives as long as the
worker, and a stream needs many small messages while it runs. Actor calls go straight from the
client to the worker that holds the actor, not through the scheduler (which Dask's Queue and
Variable do), and they work the same in the in-process LocalCluster and across machines. A
``poll`` is ``async``, so concurrent streams wait on the worker's event loop without holding a
thread each; it returns at once when tokens are waiting, so a slow poll loses no throughput,
the next one just carries more tokens.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distributed import get_worker
from opentelemetry import trace

from chatlens.inference.batching import Batch, Sampling, Sequence
from chatlens.shared import tracing
from chatlens.shared.compute import lower_thread_priority

if TYPE_CHECKING:
    from chatlens.inference.generation import LoadedModel
    from chatlens.inference.registry import ModelSpec

log = logging.getLogger(__name__)

FINISHED_KEPT_S = 300.0  # a finished request nobody polled any more is forgotten after this


@dataclass(frozen=True)
class Progress:
    """A request's state as ``EngineActor.poll`` reports it."""

    text: str
    tokens: int
    finish_reason: str | None
    error: str | None = None


class Engine:
    """The decode-loop thread of one model on one worker."""

    def __init__(
        self,
        name: str,
        loaded: LoadedModel,
        max_batch: int = 16,
        gather_s: float = 0.05,
        niceness: int = 0,
    ) -> None:
        self.name, self.loaded, self.max_batch = name, loaded, max_batch
        self.niceness = niceness
        self.gather_s = gather_s
        self.batch = Batch(loaded.model, loaded.tokenizer, loaded.device, stop_ids(loaded))
        self._wake = threading.Condition()
        self._pending: list[Sequence] = []
        self._sequences: dict[str, Sequence] = {}
        self._finished_at: dict[str, float] = {}
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._spans: dict[str, trace.Span] = {}  # each request's span, ended with it
        self._stopping = False
        self.steps = 0  # decode steps run, and the rows they carried: the mean batch size
        self.rows_stepped = 0
        self._thread = threading.Thread(target=self._run, name=f"llm-engine-{name}", daemon=True)
        self._thread.start()

    def submit(self, sequence: Sequence, span: trace.Span | None = None) -> Sequence:
        """Queue ``sequence``; ``span`` (the request's) ends when the sequence does."""
        with self._wake:
            if self._stopping:
                raise RuntimeError(f"the engine of {self.name} is stopped")
            self._expire()
            self._sequences[sequence.id] = sequence
            if span is not None:
                self._spans[sequence.id] = span
            self._pending.append(sequence)
            self._wake.notify()
        return sequence

    def get(self, sequence_id: str) -> Sequence:
        try:
            return self._sequences[sequence_id]
        except KeyError:
            raise LookupError(f"no request {sequence_id} on this worker") from None

    def cancel(self, sequence_id: str) -> None:
        sequence = self._sequences.get(sequence_id)
        if sequence is not None:
            with sequence.lock:
                sequence.cancelled = True
            with self._wake:  # not started yet: it never will be
                if sequence in self._pending:
                    self._pending.remove(sequence)
                    self._end([sequence], "cancelled")

    def forget(self, sequence_id: str) -> None:
        self._sequences.pop(sequence_id, None)
        self._finished_at.pop(sequence_id, None)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(30)

    # --- waiting (on an event loop) ---------------------------------------------------------
    async def wait(
        self, sequence: Sequence, since_tokens: int, timeout: float, settle: float = 0.0
    ) -> None:
        """Return once ``sequence`` has ended, or has more than ``since_tokens`` tokens and
        ``settle`` seconds have passed (so that a stream's messages carry several tokens), or
        after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._wake:
            self._waiters.setdefault(sequence.id, []).append(entry)
        started = loop.time()
        try:
            while not sequence.done:
                elapsed = loop.time() - started
                if elapsed >= timeout:
                    return
                if len(sequence.generated) > since_tokens:
                    if elapsed >= settle:
                        return
                    wake_in = settle - elapsed  # tokens are waiting: only the end hurries them
                else:
                    wake_in = timeout - elapsed
                event.clear()
                try:
                    await asyncio.wait_for(event.wait(), wake_in)
                except TimeoutError:
                    pass
        finally:
            with self._wake:
                waiters = self._waiters.get(sequence.id, [])
                if entry in waiters:
                    waiters.remove(entry)
                if not waiters:
                    self._waiters.pop(sequence.id, None)

    def _notify(self, sequences: list[Sequence]) -> None:
        with self._wake:
            entries = [e for s in sequences for e in self._waiters.get(s.id, ())]
        for loop, event in entries:
            loop.call_soon_threadsafe(event.set)

    # --- the decode loop (its own thread) -----------------------------------------------------
    def _run(self) -> None:
        # Before the first torch operation, so its OpenMP workers inherit it (compute docs).
        lower_thread_priority(self.niceness)
        while True:
            with self._wake:
                while not self._pending and not self.batch.rows and not self._stopping:
                    self._wake.wait(timeout=FINISHED_KEPT_S / 2)
                    self._expire()
                if self._stopping:
                    self._end(self._pending + self.batch.rows, "cancelled")
                    return
                if not self.batch.rows:
                    self._gather()
                room = max(0, self.max_batch - len(self.batch))
                joining, self._pending = self._pending[:room], self._pending[room:]
            running: list[Sequence] = []
            try:
                if joining:
                    self.batch.admit(joining)
                self.rows_stepped += len(self.batch)
                self.steps += 1
                running = list(self.batch.rows)
                finished = self.batch.step(self._decode)
            except Exception as exc:  # a model failure ends the requests, not the loop
                log.exception("generation failed", extra={"model": self.name})
                failed = self.batch.fail(exc)
                failed += [s for s in joining if s not in failed]
                for sequence in failed:
                    with sequence.lock:
                        sequence.finish_reason, sequence.error = "error", exc
                finished = running = failed
            with self._wake:
                self._ended(finished)
            self._notify(running)

    def _gather(self) -> None:
        """An idle engine that gets a request waits ``gather_s`` for others: requests sent
        together (a burst, a page of questions) then share one prefill and every step from the
        first, instead of joining one by one. Called holding ``_wake``."""
        deadline = time.monotonic() + self.gather_s
        while len(self._pending) < self.max_batch and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wake.wait(remaining)

    def _end(self, sequences: list[Sequence], reason: str) -> None:
        for sequence in sequences:
            with sequence.lock:
                sequence.finish_reason = sequence.finish_reason or reason
        self._ended(sequences)
        self._notify(sequences)

    def _ended(self, sequences: list[Sequence]) -> None:
        """Note when ``sequences`` finished and end their spans. Called holding ``_wake``."""
        now = time.monotonic()
        for sequence in sequences:
            self._finished_at[sequence.id] = now
            span = self._spans.pop(sequence.id, None)
            if span is not None:
                _end_span(span, sequence)

    def _expire(self) -> None:
        cutoff = time.monotonic() - FINISHED_KEPT_S
        for sequence_id in [i for i, at in self._finished_at.items() if at < cutoff]:
            self.forget(sequence_id)

    def _decode(self, sequence: Sequence) -> None:
        text = self.loaded.tokenizer.decode(sequence.generated, skip_special_tokens=True)
        if not text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            sequence.text = text.strip()


def _end_span(span: trace.Span, sequence: Sequence) -> None:
    with sequence.lock:
        span.set_attribute("chatlens.tokens_generated", len(sequence.generated))
        span.set_attribute("chatlens.finish_reason", sequence.finish_reason or "")
        if sequence.error is not None:
            span.record_exception(sequence.error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, repr(sequence.error)))
    span.end()


def stop_ids(loaded: LoadedModel) -> set[int]:
    """The tokens that end an answer: the model's end-of-sequence token(s)."""
    eos = loaded.model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if loaded.tokenizer.eos_token_id is not None:
        ids.add(loaded.tokenizer.eos_token_id)
    return ids


class EngineActor:
    """The service's handle on one worker's engines (created with ``actor=True``)."""

    def __init__(self) -> None:
        from chatlens.inference.generation import PLUGIN_NAME

        self.plugin = get_worker().plugins[PLUGIN_NAME]

    def submit(
        self,
        spec: ModelSpec,
        turns: list[dict[str, str]],
        max_new_tokens: int,
        sampling: Sampling,
        trace_context: dict[str, str] | None = None,
    ) -> tuple[str, int]:
        """Queue a generation; returns its id and its prompt's token count. Raises
        ``PromptTooLong`` when it does not fit the model's context. The generation runs in a
        span continuing ``trace_context`` (:func:`~chatlens.shared.tracing.carrier`)."""
        from chatlens.inference.generation import check_context, prompt_ids

        span = tracing.start_serving(
            trace_context,
            "generate",
            {"chatlens.model": spec.name, "chatlens.max_new_tokens": max_new_tokens},
        )
        try:
            engine = self.plugin.engine(spec)
            ids = prompt_ids(engine.loaded.tokenizer, turns)
            span.set_attribute("chatlens.prompt_tokens", len(ids))
            check_context(spec, len(ids), max_new_tokens)
            sequence = engine.submit(Sequence(ids, max_new_tokens, sampling), span)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, repr(exc)))
            span.end()
            raise
        return sequence.id, len(ids)

    async def poll(
        self, model: str, sequence_id: str, since_tokens: int, wait_s: float, settle_s: float = 0.0
    ) -> Progress:
        """What the request has produced, once it has ended, or has more than ``since_tokens``
        tokens and ``settle_s`` has passed (or after ``wait_s``). A finished request is
        forgotten once reported."""
        engine = self.plugin.engines[model]
        sequence = engine.get(sequence_id)
        await engine.wait(sequence, since_tokens, wait_s, settle_s)
        with sequence.lock:
            progress = Progress(
                sequence.text,
                len(sequence.generated),
                sequence.finish_reason,
                None if sequence.error is None else repr(sequence.error),
            )
        if progress.finish_reason is not None:
            engine.forget(sequence_id)
        return progress

    def cancel(self, model: str, sequence_id: str) -> None:
        engine: Any = self.plugin.engines.get(model)
        if engine is not None:
            engine.cancel(sequence_id)

    def stats(self) -> dict[str, float]:
        """Mean rows per decode step, by model (the batching the engines achieved)."""
        return {name: e.rows_stepped / max(e.steps, 1) for name, e in self.plugin.engines.items()}
