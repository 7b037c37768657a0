"""The ranking pieces of search: query vectors, BM25 over segments with global idf, and fusion."""

from __future__ import annotations

import numpy as np

from chatlens.index.keyword import idf
from chatlens.index.storage.segment import Segment
from chatlens.index.text import KeywordQuery, contains_phrase, tokenize
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import SearchHit, VersionHits

# Reciprocal rank fusion's constant (Cormack et al. 2009): 60 damps the head of each list so
# that agreement between the lists matters more than first place in one of them.
RRF_K = 60
# Each list's weight in the fusion: (semantic, keyword). The keyword list votes at half weight:
# on the labelled set of ``make eval`` (eval/README.md), equal weights let a message that shares
# a few words with the question and sits deep in the semantic list outrank the semantic best
# match; halving the keyword vote ranked 6 queries higher and none lower on each half of the
# queries, while remembered names and numbers still come first.
RRF_WEIGHTS = (1.0, 0.5)

Ranked = tuple[float, int, int]  # (score, segment number, message position)


def query_vector(vector: list[float], dim: int) -> np.ndarray:
    query = np.asarray(vector, dtype=np.float32)
    if query.shape != (dim,):
        raise PermanentError(
            f"the query has {query.size} dimensions, the collection {dim}", code="invalid_vector"
        )
    norm = float(np.linalg.norm(query))
    if not np.isfinite(query).all() or not np.isfinite(norm) or norm == 0.0:
        raise PermanentError("the query vector must be finite and non-zero", code="invalid_vector")
    return query / norm


def global_weights(segments: list[Segment], query: KeywordQuery) -> dict[str, float]:
    """Each query term (prefixes expanded) -> its idf over all the given segments together."""
    terms = set(query.terms) | set(query.phrase_terms)
    for prefix in query.prefixes:
        for segment in segments:
            terms.update(segment.keywords.expand_prefix(prefix))
    total = sum(segment.keywords.rows for segment in segments)
    weights = {}
    for term in terms:
        df = sum(segment.keywords.df(term) for segment in segments)
        if df:
            weights[term] = idf(df, total)
    return weights


# A query word found in more than this share of the searched messages ("the", "in", "ok") is not
# highlighted beside rarer ones: marking it says nothing about why the message matched.
COMMON_SHARE = 0.1


def common_terms(segments: list[Segment], query: KeywordQuery) -> frozenset[str]:
    """The query's plain terms in more than ``COMMON_SHARE`` of the segments' messages, unless
    every term is (then none: a search for common words still shows them). Language-agnostic:
    counted, not listed."""
    total = sum(segment.keywords.rows for segment in segments)
    if not total or not query.terms:
        return frozenset()
    common = {
        term
        for term in query.terms
        if sum(segment.keywords.df(term) for segment in segments) > COMMON_SHARE * total
    }
    return frozenset() if common >= set(query.terms) else frozenset(common)


def coverage(segments: list[Segment], query: KeywordQuery) -> list[np.ndarray]:
    """Per segment and row, the share of the query's idf mass the row matches (0 to 1).

    Each query word counts with its global idf (a word no message has counts as the rarest
    possible), a prefix with the highest idf among its expansions; a row matches a prefix when
    it holds any expansion.
    """
    total = sum(segment.keywords.rows for segment in segments)
    rarest = idf(0, total)
    units: list[tuple[float, list[str]]] = []
    for term in dict.fromkeys((*query.terms, *query.phrase_terms)):
        df = sum(segment.keywords.df(term) for segment in segments)
        units.append((idf(df, total) if df else rarest, [term]))
    for prefix in query.prefixes:
        expansions = sorted({t for seg in segments for t in seg.keywords.expand_prefix(prefix)})
        weights = [idf(sum(seg.keywords.df(t) for seg in segments), total) for t in expansions]
        units.append((max(weights, default=rarest), expansions))
    mass = sum(weight for weight, _ in units) or 1.0
    out = []
    for segment in segments:
        share = np.zeros(segment.keywords.rows, np.float32)
        for weight, words in units:
            present = np.zeros(segment.keywords.rows, bool)
            for word in words:
                present[segment.keywords.postings(word)[0]] = True
            share[present] += weight / mass
        out.append(share)
    return out


def keyword_rank(
    segments: list[Segment],
    masks: list[np.ndarray | None],
    query: KeywordQuery,
    depth: int,
    min_coverage: float = 0.0,
) -> list[list[tuple[float, int]]]:
    """Per segment, the best ``depth`` (BM25 score, message position), best first.

    Only rows that pass the filter mask, contain every quoted phrase, score above zero, and
    match at least ``min_coverage`` of the query's idf mass (:func:`coverage`) count.
    """
    weights = global_weights(segments, query)
    shares = coverage(segments, query) if min_coverage > 0 else [None] * len(segments)
    out = []
    for segment, mask, share in zip(segments, masks, shares, strict=True):
        scores = segment.keywords.scores(weights)
        keep = scores > 0
        if mask is not None:
            keep &= mask
        if share is not None:
            keep &= share >= min_coverage - 1e-6
        for phrase in query.phrases:  # cheap necessary condition first: every word present
            for word in set(phrase):
                present = np.zeros_like(keep)
                present[segment.keywords.postings(word)[0]] = True
                keep &= present
        rows = np.flatnonzero(keep)
        if not query.phrases and rows.size > depth:
            # Only the best ``depth`` need sorting; ties at the cut are settled by position below,
            # so take every row scoring at least the depth-th best score.
            cut = np.partition(scores[rows], rows.size - depth)[rows.size - depth]
            rows = rows[scores[rows] >= cut]
        order = rows[np.lexsort((rows, -scores[rows]))]
        ranked = []
        for row in order:
            if query.phrases:
                tokens = tokenize(segment.messages[row].text)
                if not all(contains_phrase(tokens, phrase) for phrase in query.phrases):
                    continue
            ranked.append((float(scores[row]), int(row)))
            if len(ranked) == depth:
                break
        out.append(ranked)
    return out


def reciprocal_rank_fusion(lists: list[list[Ranked]]) -> list[Ranked]:
    """Fuse ranked lists by the sum of weight / (RRF_K + rank) over the lists a hit appears in.

    ``lists`` are (semantic, keyword), weighted by ``RRF_WEIGHTS`` (any further list by 1);
    the constants are read at call time.
    """
    fused: dict[tuple[int, int], float] = {}
    for number_of_list, ranked in enumerate(lists):
        weight = RRF_WEIGHTS[number_of_list] if number_of_list < len(RRF_WEIGHTS) else 1.0
        for rank, (_, number, position) in enumerate(ranked, start=1):
            fused[(number, position)] = fused.get((number, position), 0.0) + weight / (RRF_K + rank)
    order = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return [(score, number, position) for (number, position), score in order]


def fuse_versions(by_version: list[VersionHits]) -> list[SearchHit]:
    """Every message found in any version, once, best fused rank first.

    A message's fused score is the sum of 1 / (RRF_K + rank) over the versions that return it:
    a message every version agrees on comes before one a single version ranks first. Each hit is
    the message as its best-ranking version found it, with ``found_in`` the versions that did.
    """
    fused: dict[str, float] = {}
    found_in: dict[str, list[int]] = {}
    best: dict[str, tuple[int, SearchHit]] = {}
    for answer in by_version:
        for rank, hit in enumerate(answer.hits, start=1):
            key = hit.message.message_id
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            found_in.setdefault(key, []).append(answer.version)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, hit)
    order = sorted(fused, key=lambda key: (-fused[key], best[key][0], key))
    return [
        best[key][1].model_copy(update={"score": fused[key], "found_in": sorted(found_in[key])})
        for key in order
    ]
