"""Calling the inference service from the views not yet moved onto the application layer
(model administration, the OpenAI-compatible routes): the application layer's RPC port."""

from __future__ import annotations

from collections.abc import Iterator

from chatlens.gateway.api import deps
from chatlens.shared import schemas


def call_inference(request: schemas.Message, timeout: float | None = None) -> schemas.Message:
    """Send ``request`` to the inference service; ``Unavailable`` when nobody answers in time."""
    return deps.backends().rpc.inference(request, schemas.Message, timeout)


def list_models() -> schemas.ModelsListed:
    return call_inference(schemas.ModelsListRequested())


def stream_inference(
        request: schemas.GenerateRequested) -> tuple[schemas.GenerationStarted,
                                                     Iterator[schemas.Message]]:
    """Start a streamed generation (``application.ports.Rpc.stream``)."""
    return deps.backends().rpc.stream(request)
