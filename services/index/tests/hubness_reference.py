"""Plain-numpy reference of semantic search with the hubness correction (``storage.hubness``),
for tests that compare the index's answers with a brute-force ranking."""

from __future__ import annotations

import numpy as np

from chatlens.index.search import HUBNESS_DEPTH
from chatlens.index.storage.hubness import BETA, NEIGHBOURS


def hubness(matrix: np.ndarray) -> np.ndarray:
    """Each row's mean cosine to its ``NEIGHBOURS`` nearest other rows (rows normalised)."""
    cosines = matrix @ matrix.T
    np.fill_diagonal(cosines, -np.inf)
    k = min(NEIGHBOURS, len(matrix) - 1)
    if k < 1:
        return np.zeros(len(matrix), np.float32)
    return np.sort(cosines, axis=1)[:, -k:].mean(axis=1)


def order(cosines: np.ndarray, hub: np.ndarray, k: int) -> list[int]:
    """Rows of one segment, best first: its best ``HUBNESS_DEPTH`` finite ``cosines``, scored
    cosine - BETA x ``hub``."""
    top = [
        i for i in np.argsort(-cosines, kind="stable")[:HUBNESS_DEPTH] if np.isfinite(cosines[i])
    ]
    return sorted(top, key=lambda i: -(cosines[i] - BETA * hub[i]))[:k]


def ranked(
    segments: list[tuple[list[str], np.ndarray, np.ndarray]], query: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """The best ``k`` (id, score) over ``segments`` of (ids, rows, hubness): each segment's best
    ``HUBNESS_DEPTH`` by cosine, scored cosine - BETA x hubness."""
    hits = []
    for ids, rows, hub in segments:
        cosines = rows @ query
        for i in np.argsort(-cosines, kind="stable")[:HUBNESS_DEPTH]:
            hits.append((ids[i], float(cosines[i] - BETA * hub[i])))
    return sorted(hits, key=lambda hit: -hit[1])[:k]
