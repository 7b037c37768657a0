"""Calling the inference service over RPC, and how its refusals reach the client."""

from __future__ import annotations

from flask import current_app

from chatlens.gateway.api import rpc
from chatlens.shared import schemas

# The inference service's refusal codes -> (HTTP status, public code).
INFERENCE_ERRORS = {
    "unknown_model": (404, "model_not_found"),
    "prompt_too_long": (400, "context_length_exceeded"),
    "invalid_message": (422, "validation_error"),
}


def call_inference(request: schemas.Message) -> schemas.Message:
    """Send ``request`` to the inference service; a 503 when nobody answers in time."""
    timeout = current_app.config["CHATLENS_SETTINGS"].generation_timeout_s
    return rpc.call(request, timeout, errors=INFERENCE_ERRORS, service="inference")


def list_models() -> schemas.ModelsListed:
    return call_inference(schemas.ModelsListRequested())
