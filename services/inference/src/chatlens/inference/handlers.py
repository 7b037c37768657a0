"""RPC handlers of the inference service: turn a request on ``inference.rpc`` into work.

A plain table maps each request type to its handler, so RAG answers and summaries are new rows.
Errors are sorted here, once: what the request got wrong is a :class:`PermanentError` with a code
the caller can act on, what the cluster got wrong is a :class:`TransientError`, worth a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import Counter, Histogram

from chatlens.inference.cluster import CLUSTER_ERRORS, LlmCluster
from chatlens.inference.generation import PromptTooLong
from chatlens.inference.registry import Registry, UnknownModel
from chatlens.shared import schemas
from chatlens.shared.bus import Delivery, PermanentError, TransientError

log = logging.getLogger(__name__)

GENERATION_SECONDS = Histogram(
    "chatlens_inference_generation_seconds", "Time to generate one answer, by model", ["model"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160),
)
GENERATED_TOKENS = Counter(
    "chatlens_inference_generated_tokens_total", "Tokens generated, by model", ["model"]
)


class InferenceHandlers:
    """What the RPC server calls with each decoded request."""

    def __init__(self, registry: Registry, cluster: LlmCluster, default_model: str) -> None:
        self.registry = registry
        self.cluster = cluster
        self.default_model = default_model
        self.table: dict[type[schemas.Message], Callable[[schemas.Message], schemas.Message]] = {
            schemas.GenerateRequested: self.generate,
            schemas.ModelsListRequested: self.list_models,
        }

    def __call__(self, message: schemas.Message, delivery: Delivery) -> schemas.Message:
        handler = self.table.get(type(message))
        if handler is None:
            raise PermanentError(f"inference does not handle {message.type}", code="unsupported")
        return handler(message)

    def list_models(self, request: schemas.ModelsListRequested) -> schemas.ModelsListed:
        """The registry's entries; the gateway's ``GET /v1/models`` shows them."""
        infos = [schemas.ModelInfo(name=name, kind=self.registry.get(name).kind,
                                   context_length=self.registry.get(name).context_length)
                 for name in self.registry.names()]
        return schemas.ModelsListed(models=infos, default=self.default_model)

    def generate(self, request: schemas.GenerateRequested) -> schemas.Generated:
        try:
            spec = self.registry.llm(request.model or self.default_model)
        except UnknownModel as exc:
            raise PermanentError(str(exc), code="unknown_model") from exc
        try:
            completion = self.cluster.generate(spec, request.prompt, request.system,
                                               request.max_new_tokens)
        except PromptTooLong as exc:
            raise PermanentError(str(exc), code="prompt_too_long") from exc
        except CLUSTER_ERRORS as exc:
            raise TransientError(f"Dask cluster: {exc!r}") from exc
        GENERATION_SECONDS.labels(spec.name).observe(completion.seconds)
        GENERATED_TOKENS.labels(spec.name).inc(completion.tokens)
        log.info("generated", extra={"model": spec.name, "tokens": completion.tokens,
                                     "seconds": round(completion.seconds, 3)})
        return schemas.Generated(model=spec.name, text=completion.text, tokens=completion.tokens)
