"""``POST /api/v1/search``: one search over several collections of the caller's org.

Every id is checked against the caller's org first (a 404 for any that is not theirs, the same
as for one that does not exist). The index then ranks the collections as one corpus: the
collections one index replica owns are searched in one RPC with exact fusion; when they live on
several replicas, each replica's ranked list (its share of the first pages) is fetched and the
lists are merged by score. That merge is exact for semantic search (cosine scores compare
across replicas); for keyword search each replica's BM25 idf covers only its own collections,
and hybrid scores are each replica's fused ranks, so across replicas those two interleave the
replicas' rankings rather than re-rank the union. Hits say which collection they come from; the
cursor pins every collection's version.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g
from spectree import Response

from chatlens.gateway import cursor as cursors
from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.search import MAX_OFFSET, _result, build_filters
from chatlens.gateway.queryparse import parse_query
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared import schemas, topology
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("multisearch", __name__, url_prefix="/api/v1")

PAGE = 100  # the most hits one index RPC returns


@bp.post("/search")
@spec.validate(json=models.MultiSearchRequest,
               resp=Response(HTTP_200=models.SearchResponse, HTTP_400=models.Error,
                             HTTP_404=models.Error, HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["search"], skip_validation=True)
@requires(SEARCH_READ)
def search_collections():
    body = json_body(models.MultiSearchRequest)
    org_id = g.principal.org_id
    ids = list(dict.fromkeys(body.collections))
    parsed = parse_query(body.query)
    filters = build_filters(body.filters, parsed)
    if not parsed.semantic_text:
        raise ApiError(422, "empty_query", "the query has no words besides its operators")
    interpreted = {"text": parsed.text, "mode": body.mode,
                   "filters": filters.model_dump(mode="json", exclude_defaults=True)}
    request_print = cursors.fingerprint({**interpreted, "k": body.k, "context": body.context,
                                         "collections": sorted(ids)})
    pinned: dict[str, int] = {}
    offset = 0
    if body.cursor:
        page = cursors.decode(body.cursor, request_print)
        pinned, offset = page.versions, page.offset
        if offset > MAX_OFFSET:
            raise ApiError(400, "invalid_cursor", "the cursor is past the last page")
    with current_app.extensions["chatlens.sessions"]() as session:
        versions = {cid: jobs.get_collection(session, org_id, cid).version for cid in ids}
    # A collection with nothing indexed yet has no shards to search (unless a cursor pinned it).
    searched = [cid for cid in ids if versions[cid] > 0 or cid in pinned]
    empty = {"results": [], "version": None, "next_cursor": None, "interpreted": interpreted,
             "collections": {}}
    if not searched:
        return empty
    vector = None
    if body.mode in ("semantic", "hybrid"):
        embedded = call(schemas.EmbedQuery(texts=[parsed.semantic_text]))
        vector = embedded.vectors.to_array()[0].tolist()

    def request(group: list[str], at: int, k: int, pins: dict[str, int]) -> schemas.Message:
        return schemas.SearchRequested(
            org_id=org_id, collection_id=group[0], collection_ids=group[1:],
            version=pins.get(group[0]), collection_versions={c: pins[c] for c in group[1:]
                                                             if c in pins},
            mode=body.mode, vector=vector, query=parsed.text, filters=filters, k=k, offset=at,
            context=body.context)

    groups = by_replica(searched, current_app.config["CHATLENS_SETTINGS"].index_replicas)
    if len(groups) == 1:
        answer = call(request(groups[0], offset, body.k, pinned))
        hits, found, next_offset = answer.hits, answer.versions, answer.next_offset
    else:
        hits, found, next_offset = _scatter(groups, offset, body.k, pinned, request)
    next_cursor = None
    if next_offset is not None and next_offset <= MAX_OFFSET:
        next_cursor = cursors.encode(cursors.Cursor(0, next_offset, request_print, found))
    return {**empty, "results": [_result(hit) for hit in hits], "next_cursor": next_cursor,
            "collections": found}


def by_replica(collection_ids: list[str], replicas: int) -> list[list[str]]:
    """The ids grouped by the index replica owning them, in order of first appearance."""
    groups: dict[int, list[str]] = {}
    for cid in collection_ids:
        groups.setdefault(topology.index_replica(cid, replicas), []).append(cid)
    return list(groups.values())


def _scatter(groups, offset, k, pinned, request):
    """Each replica's best ``offset + k + 1`` hits, merged by score: (page, versions, next)."""
    wanted = offset + k + 1
    merged: list[tuple[float, int, int, schemas.SearchHit]] = []
    found: dict[str, int] = {}
    for number, group in enumerate(groups):
        pins, at, got = dict(pinned), 0, 0
        while got < wanted:
            answer = call(request(group, at, min(PAGE, wanted - got), pins))
            pins = {**answer.versions, **pins}  # later pages search what the first one did
            merged += [(hit.score, number, got + i, hit) for i, hit in enumerate(answer.hits)]
            got += len(answer.hits)
            if answer.next_offset is None or not answer.hits:
                break
            at = answer.next_offset
        found.update(pins)
    merged.sort(key=lambda item: (-item[0], item[1], item[2]))
    page = [hit for _, _, _, hit in merged[offset:offset + k]]
    return page, found, offset + k if len(merged) > offset + k else None
