"""Calling the inference service over RPC, and how its refusals reach the client."""

from __future__ import annotations

from flask import current_app

from chatlens.shared import schemas
from chatlens.shared.bus import PublishFailed, RpcError, RpcTimeout
from chatlens.shared.web import ApiError

# The inference service's refusal codes -> (HTTP status, public code).
INFERENCE_ERRORS = {
    "unknown_model": (404, "model_not_found"),
    "prompt_too_long": (400, "context_length_exceeded"),
    "invalid_message": (422, "validation_error"),
}


def call_inference(request: schemas.Message) -> schemas.Message:
    """Send ``request`` to the inference service; a 503 when nobody answers in time."""
    bus = current_app.extensions["chatlens.bus"]
    timeout = current_app.config["CHATLENS_SETTINGS"].generation_timeout_s
    try:
        return bus.rpc().call(request, timeout=timeout)
    except (RpcTimeout, PublishFailed) as exc:
        raise ApiError(503, "inference_unavailable",
                       f"the inference service did not answer: {exc}") from None
    except RpcError as exc:
        status, code = INFERENCE_ERRORS.get(exc.code, (502, "inference_failed"))
        raise ApiError(status, code, str(exc)) from None


def list_models() -> schemas.ModelsListed:
    return call_inference(schemas.ModelsListRequested())
