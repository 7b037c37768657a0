"""Answer views: ask a collection (waited for, or streamed as server-sent events) and read a
recorded answer. The work is ``chatlens.gateway.application.answers``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterator
from contextlib import closing

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import answer_http_models as am
from chatlens.gateway.api import deps, http_models, sse
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.api.renderers import filter_values
from chatlens.gateway.application import answers, usage
from chatlens.gateway.application.errors import AppError, UpstreamFailed
from chatlens.gateway.application.prompting import NO_ANSWER
from chatlens.gateway.security import requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("ask", __name__, url_prefix="/api/v1")


def answer_view(answer: answers.RecordedAnswer) -> dict:
    return {**dataclasses.asdict(answer), "created_at": answer.created_at.isoformat()}


@bp.post("/collections/<collection_id>/ask")
@spec.validate(
    json=am.AskRequest,
    resp=Response(HTTP_201=am.AnswerOut, **refusals(404, 413, 422, 502, 503)),
    tags=["answers"],
    skip_validation=True,
)
@requires("answers:create")
def ask(collection_id: str):
    body = json_body(am.AskRequest)
    asked = answers.Question(
        question=body.question,
        k=body.k,
        version=body.version,
        filters=filter_values(body.filters) if body.filters else None,
        model=body.model,
    )
    backends, caller = deps.backends(), deps.caller()
    if not body.stream:
        return answer_view(answers.answer(backends, caller, collection_id, asked)), 201
    draft = answers.prepare(backends, caller, collection_id, asked)
    # Refusals come here, before the stream, as statuses.
    generation = None if draft.request is None else usage.stream(backends, caller, draft.request)
    return sse.response(
        answer_events(
            generation, lambda text, model: answer_view(draft.record(text, model)), draft.no_answer
        )
    )


def answer_events(
    generation: tuple[schemas.GenerationStarted, Generator[schemas.Message, None, None]] | None,
    record: Callable[[str, str | None], dict],
    no_answer: str,
) -> Iterator[str]:
    """The SSE stream of an answer (``generation`` is what ``Rpc.stream`` started, None when
    nothing relevant was found): a ``start`` event, ``token`` events ``{text}`` as the model
    writes, then one ``answer`` event, the recorded answer as the plain POST returns it
    (citations, version, id). A failure mid-stream is an ``error`` event and records nothing."""
    if generation is None:
        yield sse.event(record(no_answer, None), "answer")
        return
    started, rest = generation
    yield sse.event({"model": started.model}, "start")
    final = None
    with closing(rest):  # a client that leaves closes this, and that stops the generation
        try:
            for message in rest:
                if isinstance(message, schemas.TokensGenerated):
                    yield sse.event({"text": message.text}, "token")
                elif isinstance(message, schemas.Generated):
                    final = message
        except (ApiError, AppError) as exc:
            yield sse.event(sse.error_data(exc), "error")
            return
    if final is None:  # the stream ended without its final reply: nothing to record
        failed = UpstreamFailed("inference_failed", "the answer ended before it was complete")
        yield sse.event(sse.error_data(failed), "error")
        return
    yield sse.event(record(final.text.strip() or NO_ANSWER, final.model), "answer")


@bp.get("/answers/<answer_id>")
@spec.validate(
    resp=Response(HTTP_200=am.AnswerOut, HTTP_404=http_models.Error),
    tags=["answers"],
    skip_validation=True,
)
@requires("search:read")
def get_answer(answer_id: str):
    return answer_view(answers.get_answer(deps.backends(), deps.caller(), answer_id))
