"""OpenAI-compatible endpoints: ``/v1/models``, ``/v1/embeddings``, ``/v1/chat/completions``.

Any OpenAI client pointed at ``<gateway>/v1`` with a Chatlens bearer token works. Errors use
OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, with our stable codes.
Generation is greedy (``temperature`` is accepted and ignored) and token counts of prompts are
estimated from words: the inference service reports only the generated tokens. With
``stream: true`` the whole answer arrives as one ``chat.completion.chunk``: the inference RPC
does not stream tokens yet.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import numpy as np
from flask import Blueprint, Response, jsonify, stream_with_context

from chatlens.gateway.api import answer_models as am
from chatlens.gateway.api.generation import call_inference, list_models
from chatlens.gateway.api.rpc import call
from chatlens.gateway.security import login_required, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("openai", __name__, url_prefix="/v1")

EMBED_BATCH = 64  # the most texts one EmbedQuery may carry
MAX_EMBED_INPUTS = 256
MAX_EMBED_CHARS = 8000  # one input; MiniLM reads 256 tokens, the rest is wasted work
MAX_PROMPT_CHARS = 32_000  # GenerateRequested.prompt's limit
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "invalid_request_error", 413: "invalid_request_error",
               415: "invalid_request_error", 422: "invalid_request_error"}


@bp.errorhandler(ApiError)
def _openai_error(exc: ApiError):
    # OpenAI's clients read 400 for a bad request; our 422 (validation) becomes that.
    status = 400 if exc.status == 422 else exc.status
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    response = jsonify({"error": {"message": exc.message, "type": kind, "param": None,
                                  "code": exc.code}})
    response.status_code = status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _model_view(info: schemas.ModelInfo) -> dict:
    return {"id": info.name, "object": "model", "created": 0, "owned_by": "chatlens",
            "kind": info.kind, "context_length": info.context_length}


def _estimate_tokens(*texts: str) -> int:
    """A rough token count (words): usage must be present, and the services report no more."""
    return sum(len(text.split()) for text in texts)


@bp.get("/models")
@login_required
def models():
    listed = list_models()
    return {"object": "list", "data": [_model_view(m) for m in listed.models]}


@bp.get("/models/<path:model_id>")
@login_required
def model(model_id: str):
    for info in list_models().models:
        if info.name == model_id:
            return _model_view(info)
    raise ApiError(404, "model_not_found", f"the model {model_id!r} does not exist")


@bp.post("/embeddings")
@requires("search:read")
def embeddings():
    body = json_body(am.EmbeddingsRequest)
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts:
        raise ApiError(422, "empty_input", "input has no text")
    if len(texts) > MAX_EMBED_INPUTS:
        raise ApiError(413, "too_many_inputs", f"at most {MAX_EMBED_INPUTS} inputs per request")
    for i, text in enumerate(texts):
        if not text.strip():
            raise ApiError(422, "empty_input", f"input[{i}] is empty")
        if len(text) > MAX_EMBED_CHARS:
            raise ApiError(413, "input_too_long",
                           f"input[{i}] exceeds {MAX_EMBED_CHARS} characters")
    known = {m.name for m in list_models().models if m.kind == "embedding"}
    if body.model not in known:
        raise ApiError(404, "model_not_found", f"no embedding model {body.model!r}")
    vectors = []
    for start in range(0, len(texts), EMBED_BATCH):
        reply = call(schemas.EmbedQuery(texts=texts[start:start + EMBED_BATCH]))
        if reply.model != body.model:
            raise ApiError(404, "model_not_found",
                           f"the embedding worker serves {reply.model!r}, not {body.model!r}")
        vectors.append(reply.vectors.to_array())
    matrix = np.concatenate(vectors)
    tokens = _estimate_tokens(*texts)
    return {"object": "list", "model": body.model,
            "data": [{"object": "embedding", "index": i,
                      "embedding": _encoded(row, body.encoding_format)}
                     for i, row in enumerate(matrix)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _encoded(row: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return row.tolist()


def flatten(turns: list[am.ChatTurn]) -> tuple[str | None, str]:
    """The conversation as the inference RPC takes it: one system text and one prompt.

    A single user turn is the prompt as is; a longer conversation becomes a transcript that ends
    with the latest turn, so the model answers that one.
    """
    system = "\n\n".join(t.content for t in turns if t.role in ("system", "developer")) or None
    dialogue = [t for t in turns if t.role not in ("system", "developer")]
    if len(dialogue) == 1 and dialogue[0].role == "user":
        return system, dialogue[0].content
    lines = [f"{t.role.capitalize()}: {t.content}" for t in dialogue]
    return system, "\n".join(lines)


@bp.post("/chat/completions")
@requires("answers:create")
def chat_completions():
    body = json_body(am.ChatCompletionRequest)
    system, prompt = flatten(body.messages)
    if not prompt.strip():
        raise ApiError(400, "empty_prompt", "messages need a non-empty user turn")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ApiError(400, "context_length_exceeded",
                       f"the conversation exceeds {MAX_PROMPT_CHARS} characters")
    max_tokens = body.max_completion_tokens or body.max_tokens
    generated = call_inference(schemas.GenerateRequested(
        prompt=prompt, system=system, max_new_tokens=max_tokens, model=body.model))
    finish = "length" if generated.tokens >= max_tokens else "stop"
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    prompt_tokens = _estimate_tokens(prompt, system or "")
    if not body.stream:
        return {"id": completion_id, "object": "chat.completion", "created": created,
                "model": generated.model,
                "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                             "message": {"role": "assistant", "content": generated.text}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": generated.tokens,
                          "total_tokens": prompt_tokens + generated.tokens}}

    def chunk(delta: dict, finish_reason: str | None) -> str:
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": generated.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                             "logprobs": None}]}
        return f"data: {json.dumps(data)}\n\n"

    def events():
        yield chunk({"role": "assistant", "content": generated.text}, None)
        yield chunk({}, finish)
        yield "data: [DONE]\n\n"

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
