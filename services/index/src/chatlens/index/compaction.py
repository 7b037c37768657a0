"""Background compaction: a collection's many small segments merged into one, in a new version.

Every ingest job adds a segment, so a collection fed by many small uploads ends up searching
dozens of tiny segments (one faiss call, one BM25 pass and one merge stream each). When a
collection has more than ``max_small_segments`` segments below ``small_segment_messages``, the
compactor merges all of them into one new segment (HNSW if it reaches the ANN size) and commits
a version whose message says what was merged, kept and dropped. Messages tombstoned in the
manifest are left out of the merged segment and their tombstones cleared.

It writes under the ingestor's writer lock, like a seal or a restore, and through
``Collection.compact``, which is crash-safe like ``add_version``. Search results do not change:
vectors are copied as stored, the BM25 matrix is merged rather than rebuilt
(``KeywordIndex.merge``), and each message's context stays within its own upload (the merged
segment's ``origins``). Versions before the compaction still name the old segments, which stay
on disk and in Git, so a pinned search reads them as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from prometheus_client import Counter, Gauge

from chatlens.index.ingest import Ingestor
from chatlens.index.keyword import KeywordIndex
from chatlens.index.storage.ann import AnnConfig, vectors_of
from chatlens.index.storage.collection import Collection, MergedSegment
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.manifest import Manifest, SegmentEntry
from chatlens.index.storage.segment import SegmentCache

log = logging.getLogger(__name__)

COMPACTIONS = Counter(
    "chatlens_index_compactions_total", "Compactions run, by outcome", ["outcome"]
)
COMPACTED_SEGMENTS = Counter(
    "chatlens_index_compacted_segments_total", "Small segments merged away by compaction"
)
COMPACTED_MESSAGES = Counter(
    "chatlens_index_compacted_messages_total",
    "Messages compaction kept in merged segments or dropped (tombstoned)",
    ["fate"],
)
COMPACTING = Gauge(
    "chatlens_index_compaction_in_progress", "1 while a compaction is writing a merged segment"
)


@dataclass(frozen=True)
class CompactionConfig:
    """When to compact (the ``INDEX_COMPACTION_*`` settings)."""

    enabled: bool = True
    max_small_segments: int = 8  # compact when a collection has more than this many
    small_segment_messages: int = 20_000  # a segment with fewer messages is small
    interval_s: float = 30.0  # how often the background thread looks


def small_segments(manifest: Manifest, config: CompactionConfig) -> list[SegmentEntry]:
    """The segments to merge, or [] when the collection does not need compacting yet."""
    small = [e for e in manifest.segments if e.messages < config.small_segment_messages]
    return small if len(small) > config.max_small_segments else []


def merge(
    collection: Collection, manifest: Manifest, entries: list[SegmentEntry], segments: SegmentCache
) -> MergedSegment:
    """The merged segment of ``entries``, without the manifest's tombstoned messages."""
    tombstones = set(getattr(manifest, "tombstones", ()))
    messages, vector_ids, vectors, parts, sources, dropped = [], [], [], [], [], []
    hubness: list[np.ndarray] | None = []
    for entry in entries:
        segment = segments.get(collection.segment_path(entry.id))
        ids = segment.ids()
        kept = np.array([message_id not in tombstones for message_id in ids], dtype=bool)
        dropped += [message_id for message_id, keep in zip(ids, kept, strict=True) if not keep]
        messages += [segment.messages[int(i)] for i in np.flatnonzero(kept)]
        sources += [s for s, keep in zip(segment.sources, kept, strict=True) if keep]
        rows = kept[segment.row_positions]
        vector_ids += [v for v, keep in zip(segment.vector_ids, rows, strict=True) if keep]
        vectors.append(vectors_of(segment.index)[rows])
        if hubness is not None:
            hubness = hubness + [segment.hubness[rows]] if segment.hubness is not None else None
        parts.append((segment.keywords, kept))
    origins: list[tuple[str, int]] = []
    for source in sources:  # runs of equal sources, in order
        if origins and origins[-1][0] == source:
            origins[-1] = (source, origins[-1][1] + 1)
        else:
            origins.append((source, 1))
    replaced = [entry.id for entry in entries]
    digest = hashlib.sha256("\n".join([*replaced, "", *sorted(dropped)]).encode()).hexdigest()
    return MergedSegment(
        segment_id=f"compact-{digest[:16]}",
        replaced=replaced,
        messages=messages,
        vector_ids=vector_ids,
        vectors=np.concatenate(vectors) if vectors else np.zeros((0, manifest.dim), np.float32),
        keywords=KeywordIndex.merge(parts),
        origins=origins,
        dropped=dropped,
        hubness=np.concatenate(hubness) if hubness else None,
    )


class Compactor:
    """Looks at every collection now and then, and compacts those that need it."""

    def __init__(
        self,
        layout: Layout,
        segments: SegmentCache,
        ingestor: Ingestor,
        config: CompactionConfig,
        ann: AnnConfig | None = None,
        owns: Callable[[str], bool] = lambda collection_id: True,
    ) -> None:
        self.layout, self.segments, self.ingestor = layout, segments, ingestor
        self.config, self.ann = config, ann
        self.owns = owns  # a replica compacts only the collections it owns
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Compactor:
        if self.config.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="compactor", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop looking; a compaction under way finishes first (it holds the writer lock)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.config.interval_s):
            self.run_once()

    def run_once(self) -> int:
        """Compact every collection that needs it; returns how many were compacted."""
        done = 0
        root = self.layout.root / "collections"
        for org in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
            for path in sorted(p for p in org.iterdir() if p.is_dir()):
                if self._stop.is_set():
                    return done
                if path.name.startswith(".") or not self.owns(path.name):
                    continue
                try:
                    done += self.compact(org.name, path.name) is not None
                except Exception:
                    # One broken collection must not stop compaction of the others; the metric
                    # and the log say so, and the next round tries again.
                    COMPACTIONS.labels("failed").inc()
                    log.exception(
                        "compaction failed", extra={"org_id": org.name, "collection_id": path.name}
                    )
        return done

    def compact(self, org_id: str, collection_id: str) -> Manifest | None:
        """Compact one collection if it has too many small segments; the new manifest, or None."""
        with self.ingestor.lock:
            collection = self.ingestor.open_for_writing(org_id, collection_id)
            if collection is None:
                return None
            manifest = collection.manifest()
            entries = small_segments(manifest, self.config)
            if not entries:
                return None
            started = time.perf_counter()
            COMPACTING.set(1)
            log.info(
                "compaction started",
                extra={
                    "org_id": org_id,
                    "collection_id": collection_id,
                    "segments": len(entries),
                    "messages": sum(e.messages for e in entries),
                },
            )
            try:
                merged = merge(collection, manifest, entries, self.segments)
                stats = {
                    "compacted": merged.replaced,
                    "segment": merged.segment_id,
                    "kept": len(merged.messages),
                    "dropped": len(merged.dropped),
                }
                summary = (
                    f"compaction: {len(entries)} segments merged into "
                    f"{merged.segment_id}, {len(merged.messages)} messages kept, "
                    f"{len(merged.dropped)} dropped"
                )
                new = collection.compact(merged, summary, stats, self.ann)
            except BaseException:
                self.ingestor.needs_recovery(collection)  # roll back before the next write
                raise
            finally:
                COMPACTING.set(0)
        COMPACTIONS.labels("succeeded").inc()
        COMPACTED_SEGMENTS.inc(len(entries))
        COMPACTED_MESSAGES.labels("kept").inc(len(merged.messages))
        COMPACTED_MESSAGES.labels("dropped").inc(len(merged.dropped))
        log.info(
            "compaction committed",
            extra={
                "org_id": org_id,
                "collection_id": collection_id,
                "version": new.version,
                "segments": len(entries),
                "kept": len(merged.messages),
                "dropped": len(merged.dropped),
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return new
