"""Embedding texts for a client (``/v1/embeddings``): checked, sent to the embedding worker in
batches it takes, and answered with the model that really embedded them."""

from __future__ import annotations

import numpy as np

from chatlens.gateway.application import models
from chatlens.gateway.application.errors import Invalid, NotFound, TooLarge
from chatlens.gateway.application.ports import Backends
from chatlens.shared import schemas

BATCH = 64  # the most texts one EmbedQuery may carry
MAX_INPUTS = 256
MAX_CHARS = 8000  # one input; MiniLM reads 256 tokens, the rest is wasted work


def embed(backends: Backends, texts: list[str], model: str) -> np.ndarray:
    """One row per text, from ``model`` (an embedding model of the registry)."""
    if not texts:
        raise Invalid("empty_input", "input has no text")
    if len(texts) > MAX_INPUTS:
        raise TooLarge("too_many_inputs", f"at most {MAX_INPUTS} inputs per request")
    for i, text in enumerate(texts):
        if not text.strip():
            raise Invalid("empty_input", f"input[{i}] is empty")
        if len(text) > MAX_CHARS:
            raise TooLarge("input_too_long", f"input[{i}] exceeds {MAX_CHARS} characters")
    known = {m.name for m in models.listed(backends) if m.kind == "embedding"}
    if model not in known:
        raise NotFound("model_not_found", f"no embedding model {model!r}")
    vectors = []
    for start in range(0, len(texts), BATCH):
        reply = backends.rpc.call(
            schemas.EmbedQuery(texts=texts[start : start + BATCH]), schemas.QueryEmbedded
        )
        if reply.model != model:
            raise NotFound(
                "model_not_found", f"the embedding worker serves {reply.model!r}, not {model!r}"
            )
        vectors.append(reply.vectors.to_array())
    return np.concatenate(vectors)
