"""Search use cases: one collection (with cursor pages), several versions of one collection
(federated), and several collections of the org (ranked as one corpus).

Every search is checked against the caller's org first (another org's id is not found), reads
its query once (:mod:`.queries`), embeds it once, and asks the index over RPC. Cursors pin the
version (or every collection's version) and are bound to the request that made them, the
collection included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatlens.gateway import cursor as cursors
from chatlens.gateway import jobs
from chatlens.gateway.application import search_log
from chatlens.gateway.application.errors import BadRequest, Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.queries import (
    FilterValues,
    Interpreted,
    interpret,
    query_vector,
)
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.shared import schemas, topology

MAX_OFFSET = 1000  # the index's limit: deeper pages are refined searches, not scrolling
PAGE = 100  # the most hits one index RPC returns


@dataclass(frozen=True)
class SearchQuery:
    """What a client asks a search for (``versions``: federated, across those versions)."""

    query: str
    mode: str = "hybrid"
    k: int = 10
    context: int = 2
    filters: FilterValues = FilterValues()
    version: int | str | None = None
    versions: list[int | str] | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class FusedHit:
    hit: schemas.SearchHit
    score: float
    found_in: list[int]


@dataclass(frozen=True)
class SearchResult:
    hits: list[schemas.SearchHit]
    version: int | None
    interpreted: dict[str, Any]
    next_cursor: str | None = None
    collections: dict[str, int] | None = None  # across collections: the version of each
    fused: list[FusedHit] | None = None  # across versions: the union, fused
    by_version: list[tuple[int, list[schemas.SearchHit]]] = field(default_factory=list)


def _fingerprint(read: Interpreted, query: SearchQuery, **scope: Any) -> str:
    return cursors.fingerprint({**read.view, "k": query.k, "context": query.context, **scope})


def search(
    backends: Backends, caller: Caller, collection_id: str, query: SearchQuery
) -> SearchResult:
    """One collection, at its latest version, a pinned one, or a cursor's; recorded for the
    collection's search analytics (:mod:`.search_log`) once answered."""
    started = time.perf_counter()
    result = _search(backends, caller, collection_id, query)
    found = len(result.fused) if result.fused is not None else len(result.hits)
    search_log.record(
        backends,
        caller,
        [collection_id],
        query.mode,
        query.query,
        {collection_id: found},
        time.perf_counter() - started,
    )
    return result


def _search(
    backends: Backends, caller: Caller, collection_id: str, query: SearchQuery
) -> SearchResult:
    read = interpret(query.query, query.mode, query.filters)
    if query.versions is not None:
        return search_versions(backends, caller, collection_id, query, read)
    request_print = _fingerprint(read, query, collection=collection_id)
    version = resolve_version(backends, caller, collection_id, query.version)
    offset = 0
    if query.cursor:
        page = cursors.decode(query.cursor, request_print)
        if version is not None and version != page.version:
            raise BadRequest("invalid_cursor", "the cursor belongs to another version")
        version, offset = page.version, page.offset
        if offset > MAX_OFFSET:
            raise BadRequest("invalid_cursor", "the cursor is past the last page")
    with backends.rpc.timer("db"):
        latest = indexed_version(backends, caller, collection_id)
    if latest == 0 and version is None:
        return SearchResult([], 0, read.view)
    answer = backends.rpc.call(
        schemas.SearchRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            mode=query.mode,
            vector=query_vector(backends.rpc, query.mode, read.parsed.semantic_text),
            query=read.parsed.text,
            filters=read.filters,
            k=query.k,
            offset=offset,
            version=version,
            context=query.context,
        ),
        schemas.SearchAnswered,
    )
    next_cursor = None
    if answer.next_offset is not None and answer.next_offset <= MAX_OFFSET:
        next_cursor = cursors.encode(
            cursors.Cursor(answer.version, answer.next_offset, request_print)
        )
    return SearchResult(answer.hits, answer.version, read.view, next_cursor)


def search_versions(
    backends: Backends, caller: Caller, collection_id: str, query: SearchQuery, read: Interpreted
) -> SearchResult:
    """The same search in each of ``query.versions`` (numbers or tags): every version's own
    results, and their union fused by reciprocal rank, each hit saying where it appears."""
    if query.cursor:
        raise BadRequest(
            "invalid_cursor",
            "a search across versions has no further pages; ask for more results with k",
        )
    if query.version is not None:
        raise Invalid("validation_error", "give either version or versions, not both")
    if indexed_version(backends, caller, collection_id) == 0:
        raise NotFound("version_not_found", "the collection has no versions yet")
    numbers = list(
        dict.fromkeys(
            resolve_version(backends, caller, collection_id, ref) for ref in query.versions or ()
        )
    )
    # One RPC: the index owning the collection searches each version and fuses the lists.
    answer = backends.rpc.call(
        schemas.SearchRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            mode=query.mode,
            vector=query_vector(backends.rpc, query.mode, read.parsed.semantic_text),
            query=read.parsed.text,
            filters=read.filters,
            k=query.k,
            versions=numbers,
            context=query.context,
        ),
        schemas.SearchAnswered,
    )
    fused = [FusedHit(hit, hit.score, hit.found_in or []) for hit in answer.hits]
    return SearchResult(
        [],
        answer.version,
        {**read.view, "versions": numbers},
        fused=fused,
        by_version=[(v.version, v.hits) for v in answer.by_version],
    )


def search_collections(
    backends: Backends, caller: Caller, collection_ids: list[str], query: SearchQuery
) -> SearchResult:
    """Several collections of the caller's org ranked as one corpus.

    The collections one index replica owns are searched in one RPC with exact fusion; when they
    live on several replicas, each replica's ranked list (its share of the first pages) is
    fetched and the lists are merged by score. That merge is exact for semantic search (cosine
    scores compare across replicas); for keyword search each replica's BM25 idf covers only its
    own collections, and hybrid scores are each replica's fused ranks, so across replicas those
    two interleave the replicas' rankings rather than re-rank the union.
    """
    started = time.perf_counter()
    result = _search_collections(backends, caller, collection_ids, query)
    found: dict[str, int] = {}
    for hit in result.hits:
        if hit.collection_id is not None:
            found[hit.collection_id] = found.get(hit.collection_id, 0) + 1
    search_log.record(
        backends,
        caller,
        list(dict.fromkeys(collection_ids)),
        query.mode,
        query.query,
        found,
        time.perf_counter() - started,
    )
    return result


def _search_collections(
    backends: Backends, caller: Caller, collection_ids: list[str], query: SearchQuery
) -> SearchResult:
    ids = list(dict.fromkeys(collection_ids))
    read = interpret(query.query, query.mode, query.filters)
    request_print = _fingerprint(read, query, collections=sorted(ids))
    pinned: dict[str, int] = {}
    offset = 0
    if query.cursor:
        page = cursors.decode(query.cursor, request_print)
        pinned, offset = page.versions, page.offset
        if offset > MAX_OFFSET:
            raise BadRequest("invalid_cursor", "the cursor is past the last page")
    with backends.sessions() as session:
        versions = {cid: jobs.get_collection(session, caller.org_id, cid).version for cid in ids}
    # A collection with nothing indexed yet has no shards to search (unless a cursor pinned it).
    searched = [cid for cid in ids if versions[cid] > 0 or cid in pinned]
    if not searched:
        return SearchResult([], None, read.view, collections={})
    vector = query_vector(backends.rpc, query.mode, read.parsed.semantic_text)

    def request(group: list[str], at: int, k: int, pins: dict[str, int]) -> schemas.Message:
        return schemas.SearchRequested(
            org_id=caller.org_id,
            collection_id=group[0],
            collection_ids=group[1:],
            version=pins.get(group[0]),
            collection_versions={c: pins[c] for c in group[1:] if c in pins},
            mode=query.mode,
            vector=vector,
            query=read.parsed.text,
            filters=read.filters,
            k=k,
            offset=at,
            context=query.context,
        )

    groups = by_replica(searched, backends.settings.index_replicas)
    if len(groups) == 1:
        answer = backends.rpc.call(
            request(groups[0], offset, query.k, pinned), schemas.SearchAnswered
        )
        hits, found, next_offset = answer.hits, answer.versions, answer.next_offset
    else:
        hits, found, next_offset = _scatter(backends, groups, offset, query.k, pinned, request)
    next_cursor = None
    if next_offset is not None and next_offset <= MAX_OFFSET:
        next_cursor = cursors.encode(cursors.Cursor(0, next_offset, request_print, found))
    return SearchResult(hits, None, read.view, next_cursor, collections=found)


def by_replica(collection_ids: list[str], replicas: int) -> list[list[str]]:
    """The ids grouped by the index replica owning them, in order of first appearance."""
    groups: dict[int, list[str]] = {}
    for cid in collection_ids:
        groups.setdefault(topology.index_replica(cid, replicas), []).append(cid)
    return list(groups.values())


def _scatter(
    backends: Backends,
    groups: list[list[str]],
    offset: int,
    k: int,
    pinned: dict[str, int],
    request: Callable[[list[str], int, int, dict[str, int]], schemas.Message],
) -> tuple[list[schemas.SearchHit], dict[str, int], int | None]:
    """Each replica's best ``offset + k + 1`` hits, merged by score: (page, versions, next)."""
    wanted = offset + k + 1
    merged: list[tuple[float, int, int, schemas.SearchHit]] = []
    found: dict[str, int] = {}
    for number, group in enumerate(groups):
        pins, at, got = dict(pinned), 0, 0
        while got < wanted:
            answer = backends.rpc.call(
                request(group, at, min(PAGE, wanted - got), pins), schemas.SearchAnswered
            )
            pins = {**answer.versions, **pins}  # later pages search what the first one did
            merged += [(hit.score, number, got + i, hit) for i, hit in enumerate(answer.hits)]
            got += len(answer.hits)
            if answer.next_offset is None or not answer.hits:
                break
            at = answer.next_offset
        found.update(pins)
    merged.sort(key=lambda item: (-item[0], item[1], item[2]))
    page = [hit for _, _, _, hit in merged[offset : offset + k]]
    return page, found, offset + k if len(merged) > offset + k else None
