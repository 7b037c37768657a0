"""Federated search across versions: the same search in several versions of one collection.

For comparing answers over time ("what did the index say before the March import?"): each
version is searched as if pinned (one index RPC each, the query embedded once), and the answer
holds every version's own results (``by_version``) and their union merged by reciprocal rank
fusion (``results``), each merged hit saying in which of the versions it appears (``found_in``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.tags import resolve_version
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

# The index's fusion constant (reciprocal rank fusion, Cormack et al. 2009).
RRF_K = 60


def search_versions(collection_id: str, body: models.SearchRequest, text: str,
                    semantic_text: str, filters: schemas.SearchFilters, interpreted: dict,
                    render: Callable[[schemas.SearchHit], dict]) -> dict:
    """The federated answer for ``body.versions`` (a list of numbers or tag names)."""
    if body.cursor:
        raise ApiError(400, "invalid_cursor", "a search across versions has no further pages; "
                                              "ask for more results with k")
    if body.version is not None:
        raise ApiError(422, "validation_error", "give either version or versions, not both")
    org_id = g.principal.org_id
    with current_app.extensions["chatlens.sessions"]() as session:
        if jobs.get_collection(session, org_id, collection_id).version == 0:
            raise ApiError(404, "version_not_found", "the collection has no versions yet")
    numbers = list(dict.fromkeys(resolve_version(org_id, collection_id, ref)
                                 for ref in body.versions or ()))
    vector = None
    if body.mode in ("semantic", "hybrid"):
        embedded = call(schemas.EmbedQuery(texts=[semantic_text]))
        vector = embedded.vectors.to_array()[0].tolist()
    by_version = []
    for number in numbers:
        answer = call(schemas.SearchRequested(
            org_id=org_id, collection_id=collection_id, mode=body.mode, vector=vector,
            query=text, filters=filters, k=body.k, version=number, context=body.context))
        by_version.append((answer.version, answer.hits))
    return {"results": merge(by_version, render),
            "version": max(v for v, _ in by_version), "next_cursor": None,
            "interpreted": {**interpreted, "versions": numbers},
            "by_version": [{"version": v, "results": [render(hit) for hit in hits]}
                           for v, hits in by_version]}


def merge(by_version: list[tuple[int, list[schemas.SearchHit]]],
          render: Callable[[schemas.SearchHit], dict]) -> list[dict]:
    """Every message found in any version, once, best fused rank first, with ``found_in``.

    A message's fused score is the sum of 1 / (RRF_K + rank) over the versions that return it:
    a message every version agrees on comes before one a single version ranks first.
    """
    fused: dict[str, float] = {}
    found_in: dict[str, list[int]] = {}
    best: dict[str, tuple[int, schemas.SearchHit]] = {}
    for version, hits in by_version:
        for rank, hit in enumerate(hits, start=1):
            key = hit.message.message_id
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            found_in.setdefault(key, []).append(version)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, hit)
    order = sorted(fused, key=lambda key: (-fused[key], best[key][0], key))
    return [{**render(best[key][1]), "score": fused[key], "found_in": sorted(found_in[key])}
            for key in order]
