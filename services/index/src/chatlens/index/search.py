"""Search: exact inner-product top-k of every live segment, merged exactly into the global top-k.

Each segment returns its own best ``k`` (sorted), so the global best ``k`` are among them; a
k-way heap merge of those lists takes the first ``k`` overall. Readers never write and never
lock the writer out: they read only committed manifests and immutable segments.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.layout import Layout, is_safe_id
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import SearchAnswered, SearchHit, SearchRequested

Ranked = tuple[float, int, int]  # (score, segment number, row)


def merge_top_k(per_segment: list[list[tuple[float, int]]], k: int) -> list[Ranked]:
    """Merge each segment's best-first (score, row) lists into the best ``k`` overall."""
    streams = [[(score, number, row) for score, row in ranked]
               for number, ranked in enumerate(per_segment)]
    merged = heapq.merge(*streams, key=lambda hit: (-hit[0], hit[1], hit[2]))
    return list(itertools.islice(merged, k))


class Searcher:
    """Answers SearchRequested; safe to share between RPC worker threads."""

    def __init__(self, layout: Layout, segments: SegmentCache, pinned_cache: int = 1024) -> None:
        self.layout, self.segments = layout, segments
        self._latest: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}
        self._pinned: OrderedDict[tuple[Path, int], Manifest] = OrderedDict()
        self._pinned_cache = pinned_cache
        self._lock = threading.Lock()

    def search(self, request: SearchRequested) -> SearchAnswered:
        collection = self._collection(request.org_id, request.collection_id)
        manifest = self._manifest(collection, request.version)
        query = _query(request.vector, manifest.dim)
        segments = [self.segments.get(collection.segment_path(entry.id))
                    for entry in manifest.segments]
        ranked = merge_top_k([segment.search(query, request.k) for segment in segments], request.k)
        hits = []
        for score, number, row in ranked:
            segment = segments[number]
            message = segment.message_at_row(row)
            hits.append(SearchHit(message=message, score=score,
                                  context=segment.context(message.message_id, request.context)))
        return SearchAnswered(version=manifest.version, hits=hits)

    def _collection(self, org_id: str, collection_id: str) -> Collection:
        # The same answer for a malformed id, another org's collection and a missing one.
        if is_safe_id(org_id) and is_safe_id(collection_id):
            collection = Collection(self.layout.collection(org_id, collection_id))
            if collection.exists():
                return collection
        raise PermanentError(f"no collection {collection_id!r}", code="not_found")

    def _manifest(self, collection: Collection, version: int | None) -> Manifest:
        latest = self._latest_manifest(collection)
        if version is None or version == latest.version:
            return latest
        if not 0 <= version < latest.version:
            raise PermanentError(f"no version {version}", code="version_not_found")
        key = (collection.path, version)
        with self._lock:
            pinned = self._pinned.get(key)
        if pinned is None:
            pinned = collection.manifest_at(version)
            if pinned is None:
                raise PermanentError(f"no version {version}", code="version_not_found")
            with self._lock:  # tagged versions never change, so they can be kept
                self._pinned[key] = pinned
                while len(self._pinned) > self._pinned_cache:
                    self._pinned.popitem(last=False)
        return pinned

    def _latest_manifest(self, collection: Collection) -> Manifest:
        """The latest committed manifest, re-read only when the file changed."""
        stat = os.stat(collection.path / manifest_file.FILENAME)
        # The writer replaces the file by rename: a new inode even when the mtime ties.
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._latest.get(collection.path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            working = collection.manifest()
        except ValueError:  # read while a rollback rewrote it in place
            working = None
        if working is not None and collection.has_version(working.version):
            with self._lock:
                self._latest[collection.path] = (key, working)
            return working
        # A version being written right now (or interrupted): serve HEAD, and look again next time.
        return collection.head_manifest()


def _query(vector: list[float], dim: int) -> np.ndarray:
    query = np.asarray(vector, dtype=np.float32)
    if query.shape != (dim,):
        raise PermanentError(f"the query has {query.size} dimensions, the collection {dim}",
                             code="invalid_vector")
    norm = float(np.linalg.norm(query))
    if not np.isfinite(query).all() or not np.isfinite(norm) or norm == 0.0:
        raise PermanentError("the query vector must be finite and non-zero", code="invalid_vector")
    return query / norm

