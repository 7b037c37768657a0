"""RPC handlers of the inference service: turn a request on ``inference.rpc`` into work.

A plain table maps each request type to its handler, so RAG answers and summaries are new rows.
Errors are sorted here, once: what the request got wrong is a :class:`PermanentError` with a code
the caller can act on, what the cluster got wrong is a :class:`TransientError`, worth a retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from contextlib import closing
from pathlib import Path

from prometheus_client import Counter, Histogram

from chatlens.inference.admin import ModelAdmin
from chatlens.inference.batching import Sampling
from chatlens.inference.cluster import CLUSTER_ERRORS, Generation, LlmCluster
from chatlens.inference.generation import PromptTooLong, chat_turns
from chatlens.inference.openai_backend import ProviderClient
from chatlens.inference.registry import Registry, UnknownModel
from chatlens.inference.summaries import Summarizer, SummaryTooLong, provider_spec
from chatlens.shared import queues, schemas
from chatlens.shared.bus import Delivery, PermanentError, TransientError
from chatlens.shared.handling import Routes

log = logging.getLogger(__name__)

GenerationStream = Generator[schemas.Message, None, schemas.Generated]

GENERATION_SECONDS = Histogram(
    "chatlens_inference_generation_seconds",
    "Time to generate one answer, by model",
    ["model"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160),
)
GENERATED_TOKENS = Counter(
    "chatlens_inference_generated_tokens_total", "Tokens generated, by model", ["model"]
)


class InferenceHandlers:
    """What the RPC server calls with each decoded request."""

    def __init__(
        self,
        registry: Registry,
        cluster: LlmCluster,
        default_model: str,
        *,
        registry_path: Path | None = None,
        summary_chunk_tokens: int = 1536,
        summary_max_chunks: int = 16,
        providers: ProviderClient | None = None,
    ) -> None:
        self.registry = registry
        self.cluster = cluster
        self.default_model = default_model
        # Org endpoints (OpenAI-compatible providers) named by a request's ``provider``.
        self.providers = providers or ProviderClient(None)
        self.admin = ModelAdmin(self, cluster, registry_path, timeout_s=cluster.timeout_s)
        self.summarizer = Summarizer(
            cluster,
            chunk_tokens=summary_chunk_tokens,
            max_chunks=summary_max_chunks,
            timeout_s=cluster.timeout_s,
            providers=self.providers,
        )
        self.routes = Routes(
            queues.INFERENCE_RPC,
            {
                schemas.GenerateRequested: self.generate,
                schemas.ModelsListRequested: self.list_models,
                schemas.SummarizeRequested: self.summarize,
                schemas.ModelsStatusRequested: self.admin.status,
                schemas.ModelChangeRequested: self.admin.change,
                schemas.ProviderTestRequested: self.test_provider,
            },
        )

    def __call__(self, message: schemas.Message, delivery: Delivery) -> object:
        return self.routes(message, delivery)

    def list_models(self, request: schemas.ModelsListRequested) -> schemas.ModelsListed:
        """The registry's entries; the gateway's ``GET /v1/models`` shows them."""
        infos = [
            schemas.ModelInfo(
                name=name,
                kind=self.registry.get(name).kind,
                context_length=self.registry.get(name).context_length,
            )
            for name in self.registry.names()
        ]
        return schemas.ModelsListed(models=infos, default=self.default_model)

    def generate(self, request: schemas.GenerateRequested) -> GenerationStream:
        """Queue the generation on an engine (refusals are raised here, before any reply), and
        return the stream of its replies: ``GenerationStarted``, ``TokensGenerated`` pieces as
        the engine produces them, and ``Generated`` as the final reply. The bus sends them one
        by one to a streaming caller, and only the final one to a plain RPC. A request naming
        an org endpoint (``provider``) is generated there."""
        turns = (
            [t.model_dump() for t in request.messages]
            if request.messages
            else chat_turns(request.prompt, request.system)
        )
        sampling = Sampling(request.temperature, request.top_p, request.seed)
        if request.provider is not None:
            return self.providers.open(request.provider, turns, request.max_new_tokens, sampling)
        try:
            spec = self.registry.llm(request.model or self.default_model)
        except UnknownModel as exc:
            raise PermanentError(str(exc), code="unknown_model") from exc
        if spec.remote:  # the platform's OpenAI-compatible server
            return self.providers.open(spec.endpoint(), turns, request.max_new_tokens, sampling)
        try:
            generation = self.cluster.open(spec, turns, request.max_new_tokens, sampling)
        except PromptTooLong as exc:
            raise PermanentError(str(exc), code="prompt_too_long") from exc
        except CLUSTER_ERRORS as exc:
            raise TransientError(f"Dask cluster: {exc!r}") from exc
        return self._stream(generation)

    def _stream(self, generation: Generation) -> GenerationStream:
        started = time.perf_counter()
        yield schemas.GenerationStarted(
            model=generation.model, prompt_tokens=generation.prompt_tokens
        )
        sent, sent_tokens, progress = "", 0, None
        # closing(): a caller that stops reading closes this generator, and that the updates,
        # whose clean-up cancels the request in the engine.
        with closing(generation.updates()) as updates:
            try:
                for progress in updates:
                    if len(progress.text) > len(sent) and progress.text.startswith(sent):
                        yield schemas.TokensGenerated(
                            text=progress.text[len(sent) :], tokens=progress.tokens - sent_tokens
                        )
                        sent, sent_tokens = progress.text, progress.tokens
            except CLUSTER_ERRORS as exc:
                # Mid-stream, as in open: the cluster's fault (past its timeout, a lost worker),
                # worth a retry (the bus answers ``unavailable``, the gateway a 503).
                raise TransientError(f"Dask cluster: {exc!r}") from exc
        seconds = time.perf_counter() - started
        GENERATION_SECONDS.labels(generation.model).observe(seconds)
        GENERATED_TOKENS.labels(generation.model).inc(progress.tokens)
        log.info(
            "generated",
            extra={
                "model": generation.model,
                "tokens": progress.tokens,
                "prompt_tokens": generation.prompt_tokens,
                "seconds": round(seconds, 3),
            },
        )
        return schemas.Generated(
            model=generation.model,
            text=progress.text,
            tokens=progress.tokens,
            prompt_tokens=generation.prompt_tokens,
            finish_reason=progress.finish_reason,
        )

    def summarize(self, request: schemas.SummarizeRequested) -> schemas.Summarized:
        """A chat or window's summary, map-reduce over chunks (``summaries``), by a registry
        model or an org endpoint (``provider``)."""
        try:
            spec = (
                provider_spec(request.provider)
                if request.provider is not None
                else self.registry.llm(request.model or self.default_model)
            )
        except UnknownModel as exc:
            raise PermanentError(str(exc), code="unknown_model") from exc
        try:
            provider = request.provider or (spec.endpoint() if spec.remote else None)
            summary = self.summarizer.summarize(
                spec, request.messages, request.max_new_tokens, request.chunk_tokens, provider
            )
        except SummaryTooLong as exc:
            raise PermanentError(str(exc), code="summary_too_long") from exc
        except PromptTooLong as exc:
            raise PermanentError(str(exc), code="prompt_too_long") from exc
        except CLUSTER_ERRORS as exc:
            raise TransientError(f"Dask cluster: {exc!r}") from exc
        GENERATED_TOKENS.labels(spec.name).inc(summary.tokens)
        log.info(
            "summarised",
            extra={
                "model": spec.name,
                "messages": len(request.messages),
                "chunks": summary.chunks,
                "tokens": summary.tokens,
            },
        )
        return schemas.Summarized(
            model=spec.name,
            summary=summary.text,
            cited=summary.cited,
            chunks=summary.chunks,
            tokens=summary.tokens,
            prompt_tokens=summary.prompt_tokens,
        )

    def test_provider(self, request: schemas.ProviderTestRequested) -> schemas.ProviderTested:
        """One cheap call to an org endpoint (its model list): the URL and the key work."""
        models = self.providers.models(request.provider)
        return schemas.ProviderTested(models=models, has_model=request.provider.model in models)
