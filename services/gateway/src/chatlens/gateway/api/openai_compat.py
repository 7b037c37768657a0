"""OpenAI-compatible endpoints: ``/v1/models``, ``/v1/embeddings``, ``/v1/chat/completions``.

Any OpenAI client pointed at ``<gateway>/v1`` with a Chatlens bearer token works. Errors use
OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with our stable codes.
Chat messages reach the model as turns of its chat template. ``temperature`` 0 or absent is greedy
(absent is not OpenAI's 1: answers stay repeatable unless asked otherwise), above 0 it samples,
with ``top_p`` and ``seed``; usage counts are the model's real tokens (embeddings' are estimated
from words). With ``stream: true`` the tokens arrive as ``chat.completion.chunk`` events while
the model writes them (a streaming RPC to the inference service).

A reply that repeats the conversation's scaffolding (a run of its system turn, or the fences
and numbered lines of a Chatlens-style prompt that the request itself holds: ``application.echo``)
is replaced by :data:`ECHO_REPLY`. A streamed reply is checked piece by piece: the piece that
completes an echo is withheld, the generation stopped, and the stream ends with OpenAI's
``finish_reason: "content_filter"`` (what was sent before that piece stays sent).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing

import numpy as np
from flask import Blueprint, jsonify
from spectree import Response

from chatlens.gateway import http_errors
from chatlens.gateway.api import answer_http_models as am
from chatlens.gateway.api import deps, sse
from chatlens.gateway.api.docs import spec
from chatlens.gateway.application import embeddings as embedding
from chatlens.gateway.application import models as registry
from chatlens.gateway.application import org_models, usage
from chatlens.gateway.application.echo import EchoWatch, echoed
from chatlens.gateway.application.errors import AppError
from chatlens.gateway.security import login_required, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("openai", __name__, url_prefix="/v1")

MAX_CONVERSATION_CHARS = 64_000  # GenerateRequested.messages' limit
ECHO_REPLY = "I could not answer: my reply repeated the instructions I was given."
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
}


@bp.errorhandler(ApiError)
@bp.errorhandler(AppError)
def _openai_error(exc: ApiError | AppError):
    # OpenAI's clients read 400 for a bad request; our 422 (validation) becomes that.
    status = exc.status if isinstance(exc, ApiError) else http_errors.status_of(exc)
    status = 400 if status == 422 else status
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    response = jsonify(
        {"error": {"message": exc.message, "type": kind, "param": None, "code": exc.code}}
    )
    response.status_code = status
    headers = (
        exc.headers
        if isinstance(exc, ApiError)
        else ({"Retry-After": str(exc.retry_after)} if exc.retry_after else {})
    )
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _model_view(info: schemas.ModelInfo) -> dict:
    return {
        "id": info.name,
        "object": "model",
        "created": 0,
        "owned_by": "chatlens",
        "kind": info.kind,
        "context_length": info.context_length,
    }


def _endpoint_view(endpoint: org_models.Endpoint) -> dict:
    return {
        "id": endpoint.name,
        "object": "model",
        "created": 0,
        "owned_by": "org",
        "kind": "llm",
        "context_length": endpoint.context_length,
    }


def _estimate_tokens(*texts: str) -> int:
    """A rough token count (words): usage must be present, and the services report no more."""
    return sum(len(text.split()) for text in texts)


_REFUSALS = {
    f"HTTP_{status}": am.OpenAIError for status in (400, 401, 403, 404, 413, 415, 502, 503)
}


@bp.get("/models")
@spec.validate(
    resp=Response(HTTP_200=am.OpenAIModelList, **_REFUSALS), tags=["openai"], skip_validation=True
)
@login_required
def models():
    """The registry's models, then the caller's org endpoints."""
    backends = deps.backends()
    return {
        "object": "list",
        "data": [_model_view(m) for m in registry.listed(backends)]
        + [_endpoint_view(e) for e in org_models.endpoints(backends, deps.caller())],
    }


@bp.get("/models/<path:model_id>")
@spec.validate(
    resp=Response(HTTP_200=am.OpenAIModel, **_REFUSALS), tags=["openai"], skip_validation=True
)
@login_required
def model(model_id: str):
    backends = deps.backends()
    for endpoint in org_models.endpoints(backends, deps.caller()):
        if endpoint.name == model_id:
            return _endpoint_view(endpoint)
    return _model_view(registry.find(backends, model_id))


@bp.post("/embeddings")
@spec.validate(
    json=am.EmbeddingsRequest,
    resp=Response(HTTP_200=am.EmbeddingsOut, **_REFUSALS),
    tags=["openai"],
    skip_validation=True,
)
@requires("search:read")
def embeddings():
    body = json_body(am.EmbeddingsRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    matrix = embedding.embed(deps.backends(), texts, body.model)
    tokens = _estimate_tokens(*texts)
    return {
        "object": "list",
        "model": body.model,
        "data": [
            {"object": "embedding", "index": i, "embedding": _encoded(row, body.encoding_format)}
            for i, row in enumerate(matrix)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encoded(row: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return row.tolist()


def turns(messages: list[am.ChatTurn]) -> list[schemas.ChatTurn]:
    """The conversation as the model's chat template reads it (``developer`` is OpenAI's newer
    name for ``system``)."""
    return [
        schemas.ChatTurn(role="system" if t.role == "developer" else t.role, content=t.content)
        for t in messages
    ]


@bp.post("/chat/completions")
@spec.validate(
    json=am.ChatCompletionRequest,
    resp=Response(HTTP_200=am.ChatCompletionOut, **_REFUSALS),
    tags=["openai"],
    skip_validation=True,
)
@requires("answers:create")
def chat_completions():
    body = json_body(am.ChatCompletionRequest)
    if not any(t.content.strip() for t in body.messages if t.role in ("user", "assistant")):
        raise ApiError(400, "empty_prompt", "messages need a non-empty user turn")
    if sum(len(t.content) for t in body.messages) > MAX_CONVERSATION_CHARS:
        raise ApiError(
            400,
            "context_length_exceeded",
            f"the conversation exceeds {MAX_CONVERSATION_CHARS} characters",
        )
    max_tokens = body.max_completion_tokens or body.max_tokens
    backends, caller = deps.backends(), deps.caller()
    runs_on = org_models.resolve(backends, caller, body.model, "answers")
    request = schemas.GenerateRequested(
        messages=turns(body.messages),
        max_new_tokens=max_tokens,
        model=runs_on.model,
        provider=runs_on.provider,
        temperature=body.temperature or 0.0,
        top_p=body.top_p or 1.0,
        seed=body.seed,
    )
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    system = [t.content for t in request.messages or [] if t.role == "system"]
    prompt = "\n".join(t.content for t in request.messages or [] if t.role != "system")
    if body.stream:
        started, rest = usage.stream(backends, caller, request)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        watch = EchoWatch(system, prompt)
        return sse.response(_chunks(completion_id, created, started, rest, include_usage, watch))
    generated = usage.generate(backends, caller, request)
    content = generated.text
    if echoed(content, system, prompt):
        content = ECHO_REPLY
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": generated.model,
        "choices": [
            {
                "index": 0,
                "finish_reason": generated.finish_reason,
                "logprobs": None,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": _usage(generated),
    }


def _usage(generated: schemas.Generated) -> dict:
    return _counts(generated.prompt_tokens, generated.tokens)


def _counts(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _chunks(
    completion_id: str,
    created: int,
    started: schemas.GenerationStarted,
    rest: Generator[schemas.Message, None, None],
    include_usage: bool,
    watch: EchoWatch,
) -> Iterator[str]:
    """OpenAI's stream: the role, one chunk per piece the model wrote, the finish reason, the
    usage when asked for, ``[DONE]``. A failure mid-stream is an ``error`` object, which
    OpenAI's clients raise. A piece that completes an echo (``watch``) ends the stream with
    ``content_filter`` instead, the generation stopped."""

    def chunk(delta: dict, finish_reason: str | None = None) -> str:
        return sse.event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": started.model,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
                ],
            }
        )

    def usage_chunk(counts: dict) -> str:
        return sse.event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": started.model,
                "choices": [],
                "usage": counts,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    generated = 0  # completion tokens so far, for the usage of a stream cut off
    with closing(rest):  # a client that leaves closes this, and that stops the generation
        try:
            for message in rest:
                if isinstance(message, schemas.TokensGenerated):
                    generated += message.tokens
                    if watch.feed(message.text):  # withheld; leaving the loop stops the model
                        yield chunk({}, "content_filter")
                        if include_usage:
                            yield usage_chunk(_counts(started.prompt_tokens, generated))
                        break
                    yield chunk({"content": message.text})
                elif isinstance(message, schemas.Generated):
                    generated = message.tokens
                    yield chunk({}, message.finish_reason)
                    if include_usage:
                        yield usage_chunk(_usage(message))
        except (ApiError, AppError) as exc:
            yield sse.event(
                {
                    "error": {
                        "message": exc.message,
                        "type": "server_error",
                        "param": None,
                        "code": exc.code,
                    }
                }
            )
            return
    yield sse.event("[DONE]")
