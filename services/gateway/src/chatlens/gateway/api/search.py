"""Search: semantic, keyword or hybrid, with filters, highlights and cursor pages.

The query string's operators (``from:``, ``in:``, ``before:``, ``after:``) become filters here
(``chatlens.gateway.queryparse``); the index gets the remaining text for BM25 and, for semantic
and hybrid search, its embedding from the embedding worker. Both run over RPC.
"""

from __future__ import annotations

import html

from flask import Blueprint, current_app, g
from spectree import Response

from chatlens.gateway import cursor as cursors
from chatlens.gateway import jobs
from chatlens.gateway.api import federated, models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.tags import resolve_version
from chatlens.gateway.queryparse import ParsedQuery, parse_date, parse_query
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body, server_timing

bp = Blueprint("search", __name__, url_prefix="/api/v1/collections")

MAX_OFFSET = 1000  # the index's limit: deeper pages are refined searches, not scrolling


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    return [v.strip() for v in values if v.strip()]


def build_filters(given: models.SearchFiltersIn, parsed: ParsedQuery) -> schemas.SearchFilters:
    """The request's filters and the query's operators together.

    Names from both are alternatives (``from:Sam`` with ``sender: "Marta"`` finds either);
    dates narrow: the later ``since`` and the earlier ``until`` win.
    """
    since = [parsed.since] if parsed.since else []
    until = [parsed.until] if parsed.until else []
    if given.since:
        since.append(parse_date(given.since, "filters.since"))
    if given.until:
        until.append(parse_date(given.until, "filters.until"))
    values = {"platform": _as_list(given.platform), "chat": _as_list(given.chat) + parsed.chats,
              "sender": _as_list(given.sender) + parsed.senders, "kind": _as_list(given.kind)}
    limits = {"platform": 20, "chat": 50, "sender": 50, "kind": 7}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            raise ApiError(422, "too_many_filters", f"at most {limit} values for {name}")
    filters = schemas.SearchFilters(**values, since=max(since) if since else None,
                                    until=min(until) if until else None)
    if filters.since and filters.until and filters.since >= filters.until:
        raise ApiError(422, "invalid_date_range", "since must be before until")
    return filters


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` HTML-escaped, with each span wrapped in ``<mark>``."""
    out, last = [], 0
    for start, end in spans:
        out += [html.escape(text[last:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def message_view(message: schemas.ChatMessage) -> dict:
    """A neighbouring message, as a hit's context or an opened message's shows it."""
    return {"message_id": message.message_id, "sender": message.sender,
            "sent_at": message.sent_at.isoformat(), "text": message.text}


def _result(hit: schemas.SearchHit) -> dict:
    message = hit.message
    return {
        "message_id": message.message_id, "platform": message.platform, "chat": message.chat,
        "sender": message.sender, "sent_at": message.sent_at.isoformat(), "text": message.text,
        "score": hit.score, "semantic_score": hit.semantic_score,
        "keyword_score": hit.keyword_score,
        "highlights": [list(span) for span in hit.highlights],
        "highlighted": highlighted(message.text, hit.highlights),
        "context": [message_view(m) for m in hit.context],
        "collection_id": hit.collection_id,
    }


@bp.post("/<collection_id>/search")
@spec.validate(json=models.SearchRequest,
               resp=Response(HTTP_200=models.SearchResponse, HTTP_400=models.Error,
                             HTTP_404=models.Error, HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["search"], skip_validation=True)
@requires(SEARCH_READ)
def search(collection_id: str):
    body = json_body(models.SearchRequest)
    parsed = parse_query(body.query)
    filters = build_filters(body.filters, parsed)
    if not parsed.semantic_text:
        raise ApiError(422, "empty_query", "the query has no words besides its operators")
    interpreted = {"text": parsed.text, "mode": body.mode,
                   "filters": filters.model_dump(mode="json", exclude_defaults=True)}
    request_print = cursors.fingerprint({**interpreted, "k": body.k, "context": body.context})
    if body.versions is not None:
        return federated.search_versions(collection_id, body, parsed.text, parsed.semantic_text,
                                         filters, interpreted, _result)
    version, offset = resolve_version(g.principal.org_id, collection_id, body.version), 0
    if body.cursor:
        page = cursors.decode(body.cursor, request_print)
        if version is not None and version != page.version:
            raise ApiError(400, "invalid_cursor", "the cursor belongs to another version")
        version, offset = page.version, page.offset
        if offset > MAX_OFFSET:
            raise ApiError(400, "invalid_cursor", "the cursor is past the last page")
    with server_timing("db"), current_app.extensions["chatlens.sessions"]() as session:
        collection = jobs.get_collection(session, g.principal.org_id, collection_id)
        if collection.version == 0 and version is None:
            return {"results": [], "version": 0, "next_cursor": None, "interpreted": interpreted}
    vector = None
    if body.mode in ("semantic", "hybrid"):
        embedded = call(schemas.EmbedQuery(texts=[parsed.semantic_text]))
        vector = embedded.vectors.to_array()[0].tolist()
    answer = call(schemas.SearchRequested(
        org_id=g.principal.org_id, collection_id=collection_id, mode=body.mode, vector=vector,
        query=parsed.text, filters=filters, k=body.k, offset=offset, version=version,
        context=body.context))
    next_cursor = None
    if answer.next_offset is not None and answer.next_offset <= MAX_OFFSET:
        next_cursor = cursors.encode(cursors.Cursor(answer.version, answer.next_offset,
                                                    request_print))
    return {"results": [_result(hit) for hit in answer.hits], "version": answer.version,
            "next_cursor": next_cursor, "interpreted": interpreted}
