"""Which FAISS index a segment gets when it is sealed: exact for small segments, HNSW for large.

Small segments keep ``IndexFlatIP`` (exact; at 20,000 rows a scan costs about 1.5 ms). From
``AnnConfig.min_vectors`` rows on, a segment gets ``IndexHNSWFlat`` with inner product over the
same normalised rows. HNSW rather than IVF, measured on all-MiniLM-L6-v2 embeddings of chat text
(services/index/README.md has the figures): both reach recall@10 >= 0.95 well under a
millisecond, but HNSW needs no training (an IVF quantiser trained on one upload fits the next one
less well), and its ``storage`` is a plain ``IndexFlatIP`` holding every row in row order, so the
exact search a narrow filter needs runs on the very same memory, with no second copy of the
vectors.

``efSearch`` is chosen when the segment is built and saved inside the index file (faiss stores
it), so a loaded segment answers with the recall it was built for.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

# Below this share of a segment's rows allowed by a filter, the search scores the allowed rows
# exactly instead of walking the HNSW graph with a selector. A filtered walk still has to step
# over the rejected nodes, and its recall falls with the share: measured on 250k rows at efSearch
# 128, recall@10 0.96 with half the rows allowed, 0.95 at 10%, 0.94 at 5%, 0.72 at 2%, 0.49 at
# 1%. Below 10% the exact scan reads at most a tenth of the segment's vectors.
EXACT_BELOW_SHARE = 0.10


@dataclass(frozen=True)
class AnnConfig:
    """How sealed segments are indexed (the ``INDEX_ANN_*`` settings)."""

    min_vectors: int = 20_000  # segments with fewer vectors stay exact
    m: int = 16  # HNSW links per node (32: +0.01 recall, 4.6x the build time)
    ef_construction: int = 100  # 40 builds 2.2x faster but needs twice the efSearch
    ef_search: int = 128  # recall@10 0.998 against exact at 100k rows, see the README


def build_index(vectors: np.ndarray, config: AnnConfig | None) -> faiss.Index:
    """The index for a new segment's normalised ``vectors`` (exact when ``config`` is None)."""
    dim = vectors.shape[1]
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    if config is None or rows.shape[0] < config.min_vectors:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, config.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.ef_construction
        index.hnsw.efSearch = config.ef_search
    if rows.shape[0]:
        index.add(rows)
    return index


def split(index: faiss.Index) -> tuple[faiss.Index | None, faiss.Index]:
    """(the ANN index or None, an exact index over the same rows in the same order)."""
    if isinstance(index, faiss.IndexHNSW):
        return index, faiss.downcast_index(index.storage)
    return None, index


def vectors_of(index: faiss.Index) -> np.ndarray:
    """Every stored row, in row order (for compaction, which rebuilds from them)."""
    _, exact = split(index)
    if exact.ntotal == 0:
        return np.zeros((0, exact.d), dtype=np.float32)
    return exact.reconstruct_n(0, exact.ntotal)


def exact_top_k(
    exact: faiss.Index, rows: np.ndarray, query: np.ndarray, k: int
) -> list[tuple[float, int]]:
    """The best ``k`` of the given ``rows`` of a flat index by inner product, as (score, row),
    best first. Only those rows are read (faiss computes the subset's distances in place)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    query = np.ascontiguousarray(query, dtype=np.float32)
    scores = np.empty(rows.size, dtype=np.float32)
    exact.compute_distance_subset(
        1, faiss.swig_ptr(query), rows.size, faiss.swig_ptr(scores), faiss.swig_ptr(rows)
    )
    if k < rows.size:
        best = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[best], scores[best]
    order = np.lexsort((rows, -scores))
    return [(float(scores[i]), int(rows[i])) for i in order]
