"""Calling the inference service from the views not yet moved onto the application layer
(model administration, the OpenAI-compatible routes): the application layer's RPC port."""

from __future__ import annotations

from collections.abc import Generator

from chatlens.gateway.api import deps
from chatlens.gateway.application.ports import R
from chatlens.shared import schemas


def call_inference(request: schemas.Message, reply: type[R],
                   timeout: float | None = None) -> R:
    """Send ``request`` to the inference service and wait for its ``reply``; ``Unavailable``
    when nobody answers in time."""
    return deps.backends().rpc.inference(request, reply, timeout)


def list_models() -> schemas.ModelsListed:
    return call_inference(schemas.ModelsListRequested(), schemas.ModelsListed)


def stream_inference(
        request: schemas.GenerateRequested) -> tuple[schemas.GenerationStarted,
                                                     Generator[schemas.Message, None, None]]:
    """Start a streamed generation (``application.ports.Rpc.stream``)."""
    return deps.backends().rpc.stream(request)
