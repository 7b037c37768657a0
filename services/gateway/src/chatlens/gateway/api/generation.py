"""Calling the inference service over RPC, and how its refusals reach the client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager

from flask import current_app

from chatlens.gateway.api import rpc
from chatlens.shared import schemas
from chatlens.shared.bus import PublishFailed, RpcError, RpcTimeout
from chatlens.shared.web import ApiError

# The inference service's refusal codes -> (HTTP status, public code).
INFERENCE_ERRORS = {
    "unknown_model": (404, "model_not_found"),
    "prompt_too_long": (400, "context_length_exceeded"),
    "invalid_message": (422, "validation_error"),
    # Summaries and model administration.
    "summary_too_long": (413, "window_too_large"),
    "wrong_model_kind": (422, "wrong_model_kind"),
    "model_in_use": (409, "model_in_use"),
    "invalid_registry": (422, "invalid_registry"),
    "model_load_failed": (422, "model_load_failed"),
}


def call_inference(request: schemas.Message, timeout: float | None = None) -> schemas.Message:
    """Send ``request`` to the inference service; a 503 when nobody answers in time."""
    timeout = timeout or current_app.config["CHATLENS_SETTINGS"].generation_timeout_s
    return rpc.call(request, timeout, errors=INFERENCE_ERRORS, service="inference")


def list_models() -> schemas.ModelsListed:
    return call_inference(schemas.ModelsListRequested())


def stream_inference(
        request: schemas.GenerateRequested) -> tuple[schemas.GenerationStarted,
                                                     Iterator[schemas.Message]]:
    """Start a streamed generation. Returns its first reply, which says the request passed the
    inference service's checks (a refusal is raised here as an ``ApiError``, while the HTTP
    status can still say so), and an iterator over the rest: ``TokensGenerated`` pieces as the
    model writes them, then ``Generated``. A later failure is raised from the iterator as an
    ``ApiError`` too; closing the iterator stops the generation."""
    timeout = current_app.config["CHATLENS_SETTINGS"].generation_timeout_s
    messages = current_app.extensions["chatlens.bus"].rpc().stream(request, timeout=timeout)
    with _as_api_errors():
        started = next(messages)
    if isinstance(started, schemas.Generated):  # a server that does not stream: all at once
        final = started
        started = schemas.GenerationStarted(model=final.model, prompt_tokens=final.prompt_tokens)
        return started, _rest(m for m in [final])
    return started, _rest(messages)


def _rest(messages: Iterator[schemas.Message]) -> Iterator[schemas.Message]:
    """The stream's messages; the final text that no piece carried yet (all of it, from a server
    that does not stream) comes as one last piece before the final reply."""
    sent, sent_tokens = "", 0
    with _as_api_errors(), closing(messages):  # closing this cancels the stream
        for message in messages:
            if isinstance(message, schemas.TokensGenerated):
                sent, sent_tokens = sent + message.text, sent_tokens + message.tokens
            elif (isinstance(message, schemas.Generated) and len(message.text) > len(sent)
                  and message.text.startswith(sent)):
                yield schemas.TokensGenerated(text=message.text[len(sent):],
                                              tokens=max(message.tokens - sent_tokens, 0))
            yield message


@contextmanager
def _as_api_errors() -> Iterator[None]:
    """The inference service's refusals and silences as the ``ApiError``s ``rpc.call`` raises."""
    try:
        yield
    except (RpcTimeout, PublishFailed) as exc:
        raise ApiError(503, "inference_unavailable",
                       f"the inference service did not answer: {exc}") from None
    except RpcError as exc:
        status, code = INFERENCE_ERRORS.get(exc.code, (502, "inference_failed"))
        raise ApiError(status, code, str(exc)) from None
