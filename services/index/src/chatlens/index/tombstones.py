"""Deleted messages as readers see them: a version's tombstones as masks over each segment.

Segments are immutable, so a deletion is a list of message ids in the manifest (its
``tombstones``). Search ANDs :meth:`Tombstones.alive` into the filter mask of every segment (or,
without a filter, over-fetches a little and drops deleted rows: :func:`live_search`), so faiss
and BM25 only ever rank live rows and the top-k stays exact; context and lookups skip the
ids in :meth:`Tombstones.deleted`. Both are cached: a version's tombstones never change, and the
same set object (hash computed once) keys the per-segment masks.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import Segment

NONE: frozenset[str] = frozenset()


def both(first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
    """The rows two masks both allow (None allows every row)."""
    if first is None:
        return second
    if second is None:
        return first
    return first & second


def live_search(
    segment: Segment,
    query: np.ndarray,
    k: int,
    filtered: np.ndarray | None,
    alive: np.ndarray | None,
) -> list[tuple[float, int]]:
    """``segment.search`` over the rows ``filtered`` allows that are not deleted.

    Without a filter, a few more rows than ``k`` are asked for unfiltered and the deleted ones
    dropped: when ``k`` live rows remain they are exactly the live top-k (every row not fetched
    scores lower), and that is cheaper than faiss's selector (measured: 100k messages, 2%
    deleted, semantic p50 1.21x the undeleted time with the selector, 1.04x this way).
    Otherwise, the selector.
    """
    if filtered is None and alive is not None:
        hidden = alive.size - int(np.count_nonzero(alive))
        found = segment.search(query, k + min(hidden, k))
        live_rows = alive[segment.row_positions]
        kept = [(score, row) for score, row in found if live_rows[row]]
        if len(kept) >= k or len(found) < k + min(hidden, k):  # enough, or all rows seen
            return kept[:k]
    return segment.search(query, k, both(filtered, alive))


class Tombstones:
    """Thread-safe caches of deleted-id sets (per version) and live-row masks (per segment)."""

    def __init__(self, versions: int = 64, masks_per_segment: int = 4) -> None:
        self._sets: OrderedDict[tuple[str, ...], frozenset[str]] = OrderedDict()
        self._masks: weakref.WeakKeyDictionary[Segment, OrderedDict] = weakref.WeakKeyDictionary()
        self._versions, self._per_segment = versions, masks_per_segment
        self._lock = threading.Lock()

    def deleted(self, manifest: Manifest) -> frozenset[str]:
        """The message ids ``manifest`` deletes."""
        if not manifest.tombstones:
            return NONE
        key = tuple(manifest.tombstones)
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
                return found
        found = frozenset(key)
        with self._lock:
            self._sets[key] = found
            while len(self._sets) > self._versions:
                self._sets.popitem(last=False)
        return found

    def alive(self, segment: Segment, deleted: frozenset[str]) -> np.ndarray | None:
        """A mask of ``segment``'s messages that ``deleted`` leaves; None when it hides none."""
        if not deleted:
            return None
        with self._lock:
            cached = self._masks.get(segment)
            if cached is not None and deleted in cached:
                cached.move_to_end(deleted)
                return cached[deleted]
        mask = np.ones(len(segment.messages), dtype=bool)
        hidden = 0
        for message_id in deleted:
            try:
                mask[segment.position_of(message_id)] = False
                hidden += 1
            except KeyError:
                continue
        result = mask if hidden else None
        with self._lock:
            cached = self._masks.setdefault(segment, OrderedDict())
            cached[deleted] = result
            while len(cached) > self._per_segment:
                cached.popitem(last=False)
        return result
