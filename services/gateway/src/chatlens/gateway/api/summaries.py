"""Summaries of a chat or a time window, with citations, recorded like answers.

The gateway reads the window's messages from the index (in the caller's org, at the latest or a
pinned version) and hands them to the inference service, which summarises them map-reduce when
they exceed one prompt. Summaries run while the client waits, bounded instead of queued as jobs:
a window over ``SUMMARY_MAX_MESSAGES`` messages is a 413 ``window_too_large`` that names the
limit (and the inference service refuses one needing more than its ``SUMMARY_MAX_CHUNKS`` map
steps the same way), so the slowest accepted summary stays inside ``SUMMARY_TIMEOUT_S``. A job
with progress would need an outbox message, a consumer in the inference service and a result
store, for windows users can narrow instead.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import answer_models as am
from chatlens.gateway.api import models
from chatlens.gateway.api.ask import citation
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.generation import call_inference
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.search import build_filters
from chatlens.gateway.db import Summary, utcnow
from chatlens.gateway.queryparse import ParsedQuery
from chatlens.gateway.security import ANSWERS_CREATE, SEARCH_READ, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("summaries", __name__, url_prefix="/api/v1")

NOTHING = "There are no messages in that window."
# Joins, calls and deleted messages say nothing worth summarising.
KINDS = ["text", "media", "poll"]


def _view(row: Summary) -> dict:
    return {"id": row.id, "collection_id": row.collection_id, "summary": row.summary,
            "citations": row.citations, "chunks": row.chunks, "messages": row.messages,
            "filters": row.filters, "model": row.model, "version": row.version,
            "created_at": row.created_at.isoformat()}


def window(body: am.SummaryRequest) -> schemas.SearchFilters:
    """The request's chat, sender and dates as index filters (checked like search's)."""
    given = models.SearchFiltersIn(chat=body.chat, sender=body.sender, since=body.since,
                                   until=body.until, kind=KINDS)
    return build_filters(given, ParsedQuery(text=""))


@bp.post("/collections/<collection_id>/summaries")
@spec.validate(json=am.SummaryRequest,
               resp=Response(HTTP_201=am.SummaryOut, HTTP_404=models.Error, HTTP_413=models.Error,
                             HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["answers"], skip_validation=True)
@requires(ANSWERS_CREATE)
def summarize(collection_id: str):
    body = json_body(am.SummaryRequest)
    settings = current_app.config["CHATLENS_SETTINGS"]
    org_id = g.principal.org_id
    filters = window(body)
    shown = filters.model_dump(mode="json", exclude_defaults=True, exclude={"kind"})
    sessions = current_app.extensions["chatlens.sessions"]
    with sessions() as session:
        collection = jobs.get_collection(session, org_id, collection_id)
        empty = collection.version == 0
    if empty and body.version is not None:
        raise ApiError(404, "version_not_found", f"no version {body.version}")
    version, messages, total = 0, [], 0
    if not empty:
        listed = call(schemas.MessagesListRequested(
            org_id=org_id, collection_id=collection_id, filters=filters, version=body.version,
            limit=settings.summary_max_messages))
        version, messages, total = listed.version, listed.messages, listed.total
    if total > settings.summary_max_messages:
        raise ApiError(413, "window_too_large",
                       f"the window holds {total} messages; a summary covers at most "
                       f"{settings.summary_max_messages}: narrow it with chat, sender, since "
                       "or until")
    model, text, citations, chunks = None, NOTHING, [], 0
    if messages:
        done = call_inference(schemas.SummarizeRequested(
            messages=messages, model=body.model, max_new_tokens=settings.summary_max_tokens),
            timeout=settings.summary_timeout_s)
        model, text, chunks = done.model, done.summary.strip() or NOTHING, done.chunks
        citations = [citation(n, messages[n - 1]) for n in done.cited]
    with sessions() as session:
        row = Summary(org_id=org_id, collection_id=collection_id, filters=shown, summary=text,
                      citations=citations, chunks=chunks, messages=len(messages), model=model,
                      version=version, created_by=g.principal.user_id,
                      created_at=utcnow().replace(microsecond=0))  # what MariaDB keeps
        session.add(row)
        session.commit()
        return _view(row), 201


@bp.get("/summaries/<summary_id>")
@spec.validate(resp=Response(HTTP_200=am.SummaryOut, HTTP_404=models.Error),
               tags=["answers"], skip_validation=True)
@requires(SEARCH_READ)
def get_summary(summary_id: str):
    with current_app.extensions["chatlens.sessions"]() as session:
        row = session.get(Summary, summary_id)
        if row is None or row.org_id != g.principal.org_id:
            raise ApiError(404, "summary_not_found", "no such summary")
        return _view(row)
