"""Semantic search: the query is embedded by the embedding worker, searched by the index."""

from __future__ import annotations

from flask import Blueprint, current_app, g
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.security import login_required
from chatlens.shared import schemas
from chatlens.shared.bus import PublishFailed, RpcError, RpcTimeout
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("search", __name__, url_prefix="/api/v1/collections")

# How the index's and the embedding worker's refusals reach the client.
RPC_ERRORS = {
    "not_found": (404, "collection_not_found"),
    "version_not_found": (404, "version_not_found"),
    "invalid_vector": (422, "invalid_query"),
}


def _call(request: schemas.Message, timeout: float) -> schemas.Message:
    bus = current_app.extensions["chatlens.bus"]
    try:
        return bus.rpc().call(request, timeout=timeout)
    except (RpcTimeout, PublishFailed) as exc:
        raise ApiError(503, "search_unavailable",
                       f"the search services did not answer: {exc}") from None
    except RpcError as exc:
        status, code = RPC_ERRORS.get(exc.code, (502, "search_failed"))
        raise ApiError(status, code, str(exc)) from None


def _message_view(message: schemas.ChatMessage) -> dict:
    return {"message_id": message.message_id, "sender": message.sender,
            "sent_at": message.sent_at.isoformat(), "text": message.text}


@bp.post("/<collection_id>/search")
@spec.validate(json=models.SearchRequest,
               resp=Response(HTTP_200=models.SearchResponse, HTTP_404=models.Error,
                             HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["search"], skip_validation=True)
@login_required
def search(collection_id: str):
    body = json_body(models.SearchRequest)
    settings = current_app.config["CHATLENS_SETTINGS"]
    with current_app.extensions["chatlens.sessions"]() as session:
        collection = jobs.get_collection(session, g.principal.org_id, collection_id)
        if collection.version == 0 and body.version is None:
            return {"results": [], "version": 0}
    embedded = _call(schemas.EmbedQuery(texts=[body.query]), settings.search_timeout_s)
    vector = embedded.vectors.to_array()[0].tolist()
    answer = _call(schemas.SearchRequested(org_id=g.principal.org_id, collection_id=collection_id,
                                           vector=vector, k=body.k, version=body.version,
                                           context=body.context),
                   settings.search_timeout_s)
    results = [{
        "message_id": hit.message.message_id,
        "platform": hit.message.platform,
        "chat": hit.message.chat,
        "sender": hit.message.sender,
        "sent_at": hit.message.sent_at.isoformat(),
        "text": hit.message.text,
        "score": hit.score,
        "context": [_message_view(m) for m in hit.context],
    } for hit in answer.hits]
    return {"results": results, "version": answer.version}
