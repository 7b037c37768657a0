"""Search views: one collection (``…/{id}/search``, also across versions) and several
collections of the org (``/api/v1/search``). The work is ``chatlens.gateway.application.search``;
these parse the request, call it and render the hits."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.renderers import filter_values, hit_view
from chatlens.gateway.application import search as searching
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared.web import json_body

bp = Blueprint("search", __name__, url_prefix="/api/v1")

_ERRORS = dict(
    HTTP_400=http_models.Error,
    HTTP_404=http_models.Error,
    HTTP_422=http_models.Error,
    HTTP_503=http_models.Error,
)


def _query(
    body: http_models.SearchRequest | http_models.MultiSearchRequest,
) -> searching.SearchQuery:
    return searching.SearchQuery(
        query=body.query,
        mode=body.mode,
        k=body.k,
        context=body.context,
        filters=filter_values(body.filters),
        cursor=body.cursor,
        version=getattr(body, "version", None),
        versions=getattr(body, "versions", None),
    )


def _view(result: searching.SearchResult) -> dict:
    view = {
        "results": [hit_view(hit) for hit in result.hits],
        "version": result.version,
        "next_cursor": result.next_cursor,
        "interpreted": result.interpreted,
    }
    if result.collections is not None:
        view["collections"] = result.collections
    if result.fused is not None:
        view["results"] = [
            {**hit_view(f.hit), "score": f.score, "found_in": f.found_in} for f in result.fused
        ]
        view["by_version"] = [
            {"version": v, "results": [hit_view(hit) for hit in hits]}
            for v, hits in result.by_version
        ]
    return view


@bp.post("/collections/<collection_id>/search")
@spec.validate(
    json=http_models.SearchRequest,
    resp=Response(HTTP_200=http_models.SearchResponse, **_ERRORS),
    tags=["search"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def search(collection_id: str):
    body = json_body(http_models.SearchRequest)
    return _view(searching.search(deps.backends(), deps.caller(), collection_id, _query(body)))


@bp.post("/search")
@spec.validate(
    json=http_models.MultiSearchRequest,
    resp=Response(HTTP_200=http_models.SearchResponse, **_ERRORS),
    tags=["search"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def search_collections():
    body = json_body(http_models.MultiSearchRequest)
    return _view(
        searching.search_collections(deps.backends(), deps.caller(), body.collections, _query(body))
    )
