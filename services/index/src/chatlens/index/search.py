"""Search: semantic (inner product less hubness), keyword (BM25) and hybrid (rank fusion).

Every mode ranks the messages of every live segment that pass the filters, and merges the
segments' lists exactly: each segment returns its own best ``n`` (sorted), so the global best
``n`` are among them, and a k-way heap merge takes them. Filters are masks applied inside each
segment's search (``chatlens.index.filters``), never to a finished top-k. Readers never write and
never lock the writer out: they read only committed manifests and immutable segments.
"""

from __future__ import annotations

import heapq
import itertools

from chatlens.index import ranking
from chatlens.index.manifests import ManifestReader
from chatlens.index.people import identities
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.hubness import BETA
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import Segment, SegmentCache
from chatlens.index.text import KeywordQuery, highlight_spans, parse_keyword_query
from chatlens.index.tombstones import Tombstones, both, live_search
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    SearchAnswered,
    SearchFilters,
    SearchHit,
    SearchRequested,
    VersionHits,
)

Ranked = tuple[float, int, int]  # (score, segment number, row)

# How deep each mode's list goes before fusion: deeper than the page, so a message that is
# second-tier in both modes can still reach it.
FUSION_DEPTH = 100
# In hybrid search the keyword list votes only for messages matching at least this share of the
# query's idf mass (a "minimum should match" weighted by idf). Without it a long natural-language
# question ("when is the team trip to Portugal?") lets every message sharing one ordinary word
# ("team") into the fusion, and those outvote the semantic best match; with it, a paraphrase
# falls back to the semantic ranking while messages sharing the query's rare words still count.
HYBRID_MIN_COVERAGE = 0.5
# Semantic search re-ranks each segment's best ``HUBNESS_DEPTH`` by cosine minus
# ``hubness.BETA`` x the hit's hubness (``storage.hubness`` says why), then keeps the page.
HUBNESS_DEPTH = 100


def merge_top_k(per_segment: list[list[tuple[float, int]]], k: int) -> list[Ranked]:
    """Merge each segment's best-first (score, row) lists into the best ``k`` overall."""
    streams = [
        [(score, number, row) for score, row in ranked] for number, ranked in enumerate(per_segment)
    ]
    merged = heapq.merge(*streams, key=lambda hit: (-hit[0], hit[1], hit[2]))
    return list(itertools.islice(merged, k))


class Searcher:
    """Answers SearchRequested; safe to share between RPC worker threads."""

    def __init__(
        self,
        layout: Layout,
        segments: SegmentCache,
        pinned_cache: int = 1024,
        tombstones: Tombstones | None = None,
    ) -> None:
        self.segments = segments
        self.manifests = ManifestReader(layout, pinned_cache)
        self.tombstones = tombstones or Tombstones()

    def search(self, request: SearchRequested) -> SearchAnswered:
        if request.versions:
            return self._across_versions(request)
        searched = self._searched(request)
        manifest = searched[0][2]
        keyword_query = parse_keyword_query(request.query)
        if request.mode in ("semantic", "hybrid") and request.vector is None:
            raise PermanentError(
                f"{request.mode} search needs a query vector", code="invalid_vector"
            )
        if request.mode == "keyword" and keyword_query.empty:
            raise PermanentError("the keyword query has no words to search for", code="empty_query")
        # Several collections are searched as one corpus: their segments side by side, so the
        # merge, global idf and fusion are exactly those of a single collection.
        segments, owners = [], []
        deleted = {cid: self.tombstones.deleted(version) for cid, _, version in searched}
        for collection_id, collection, version in searched:
            for entry in version.segments:
                segments.append(self.segments.get(collection.segment_path(entry.id)))
                owners.append(collection_id)
        if request.mode != "keyword" and len({version.dim for _, _, version in searched}) > 1:
            raise PermanentError(
                "the collections hold vectors of different dimensions", code="invalid_vector"
            )
        # Deleted messages are masked out like filtered ones: inside the search, so top-k is exact.
        # A person filter selects every sender name of the person in each collection's version.
        persons = {
            cid: _person_filter(request.filters.person, version.people)
            for cid, _, version in searched
        }
        filtered = [
            both(
                segment.columns.mask(request.filters),
                persons[owner] and segment.columns.mask(persons[owner]),
            )
            for segment, owner in zip(segments, owners, strict=True)
        ]
        alive = [
            self.tombstones.alive(segment, deleted[owner])
            for segment, owner in zip(segments, owners, strict=True)
        ]
        masks = [both(f, a) for f, a in zip(filtered, alive, strict=True)]
        # One row more than the page, to know whether a next page exists.
        wanted = request.offset + request.k + 1
        semantic: list[Ranked] = []
        keyword: list[Ranked] = []
        cosines: dict[tuple[int, int], float] = {}
        depth = wanted if request.mode != "hybrid" else max(wanted, FUSION_DEPTH)
        if request.mode in ("semantic", "hybrid"):
            query = ranking.query_vector(request.vector, manifest.dim)  # type: ignore[arg-type]
            # Hubness-corrected only when every segment has its hubness: a segment sealed
            # before it existed would otherwise outrank the rest by the correction's size.
            corrected = all(segment.hubness is not None for segment in segments)
            fetch = max(depth, HUBNESS_DEPTH) if corrected else depth
            found = [
                live_search(segment, query, fetch, f, a)
                for segment, f, a in zip(segments, filtered, alive, strict=True)
            ]
            # The hits' cosines, reported as their similarity (``semantic_score``): what a
            # relevance floor such as the answers' ``answer_min_score`` is calibrated on. The
            # correction only orders them.
            for number, (segment, ranked_rows) in enumerate(zip(segments, found, strict=True)):
                for cosine, position in _to_positions(segment, ranked_rows):
                    cosines[(number, position)] = cosine
            semantic = merge_top_k(
                [
                    _to_positions(segment, _less_hubness(segment, rows) if corrected else rows)
                    for segment, rows in zip(segments, found, strict=True)
                ],
                depth,
            )
        if request.mode in ("keyword", "hybrid") and not keyword_query.empty:
            min_coverage = HYBRID_MIN_COVERAGE if request.mode == "hybrid" else 0.0
            keyword = merge_top_k(
                ranking.keyword_rank(segments, masks, keyword_query, depth, min_coverage), depth
            )
        if request.mode == "semantic":
            ranked = semantic
        elif request.mode == "keyword":
            ranked = keyword
        else:
            ranked = ranking.reciprocal_rank_fusion([semantic, keyword])
        page = ranked[request.offset : request.offset + request.k]
        next_offset = (
            request.offset + request.k if len(ranked) > request.offset + request.k else None
        )
        semantic_scores = {(n, p): cosines[(n, p)] for _, n, p in semantic}
        keyword_scores = {(n, p): s for s, n, p in keyword}
        hits = []
        unmarked = ranking.common_terms(segments, keyword_query) if page else frozenset()
        for score, number, position in page:
            segment = segments[number]
            message = segment.messages[position]
            hits.append(
                SearchHit(
                    message=message,
                    score=score,
                    context=segment.context(
                        message.message_id, request.context, deleted[owners[number]]
                    ),
                    highlights=_highlights(
                        message.text, keyword_query, unmarked, (number, position) in keyword_scores
                    ),
                    semantic_score=semantic_scores.get((number, position)),
                    keyword_score=keyword_scores.get((number, position)),
                    collection_id=owners[number],
                )
            )
        return SearchAnswered(
            version=manifest.version,
            hits=hits,
            next_offset=next_offset,
            versions={cid: version.version for cid, _, version in searched},
        )

    def _across_versions(self, request: SearchRequested) -> SearchAnswered:
        """The same search at each of ``request.versions``: each version's own hits, and their
        union fused by reciprocal rank (``ranking.fuse_versions``)."""
        by_version = []
        for number in dict.fromkeys(request.versions):
            answer = self.search(
                request.model_copy(update={"versions": [], "version": number, "offset": 0})
            )
            by_version.append(VersionHits(version=answer.version, hits=answer.hits))
        latest = max(answer.version for answer in by_version)
        return SearchAnswered(
            version=latest,
            hits=ranking.fuse_versions(by_version),
            by_version=by_version,
            versions={request.collection_id: latest},
        )

    def _searched(self, request: SearchRequested) -> list[tuple[str, Collection, Manifest]]:
        """(id, collection, manifest) of every collection the request searches, the request's
        own first; each is looked up under the request's org, so none can be another org's."""
        ids = list(dict.fromkeys([request.collection_id, *request.collection_ids]))
        out = []
        for collection_id in ids:
            collection = self.manifests.collection(request.org_id, collection_id)
            pinned = (
                request.version
                if collection_id == request.collection_id
                else request.collection_versions.get(collection_id)
            )
            out.append((collection_id, collection, self.manifests.manifest(collection, pinned)))
        return out


def _person_filter(persons: list[str], people: dict[str, list[str]]) -> SearchFilters | None:
    """The sender filter that stands for ``persons`` in a version grouped as ``people``; None
    when no person is asked for. Built without validation: a person may have more names than
    a request may list."""
    if not persons:
        return None
    return SearchFilters.model_construct(sender=identities(people, persons))


def _highlights(
    text: str, query: KeywordQuery, unmarked: frozenset[str], found_by_words: bool
) -> list[tuple[int, int]]:
    """The words to mark in a hit: the query's rarer words; where a hit the keyword side found
    holds none of them ("In, 10 min" for "offsite in Lisbon"), the common words it was found by,
    rather than nothing."""
    spans = highlight_spans(text, query, unmarked)
    if not spans and unmarked and found_by_words:
        return highlight_spans(text, query)
    return spans


def _less_hubness(segment: Segment, ranked: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """(score, row) best first again after each score loses ``BETA`` x its row's hubness."""
    assert segment.hubness is not None
    rescored = [(score - BETA * float(segment.hubness[row]), row) for score, row in ranked]
    return sorted(rescored, key=lambda hit: (-hit[0], hit[1]))


def _to_positions(segment: Segment, ranked: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Vector rows -> message positions, so both modes name a hit the same way."""
    return [(score, int(segment.row_positions[row])) for score, row in ranked]
