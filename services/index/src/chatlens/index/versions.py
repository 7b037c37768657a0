"""Version history of a collection: list, compare and restore.

Listing and comparing only read (committed manifests, immutable segments). Restoring writes a
new version, so it takes the writer's lock: one writer per collection, shared with ingestion.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chatlens.index.ingest import Ingestor
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    IndexRestored,
    VersionInfo,
    VersionRestored,
    VersionRestoreRequested,
    VersionsCompared,
    VersionsCompareRequested,
    VersionsListed,
    VersionsListRequested,
)

log = logging.getLogger(__name__)


class Versions:
    def __init__(
        self, manifests: ManifestReader, segments: SegmentCache, ingestor: Ingestor
    ) -> None:
        self.manifests, self.segments, self.ingestor = manifests, segments, ingestor

    def list(self, request: VersionsListRequested) -> VersionsListed:
        collection = self.manifests.collection(request.org_id, request.collection_id)
        versions, previous = [], None
        for version, date, subject, manifest in collection.history():
            added, removed = self._delta(collection, previous, manifest)
            versions.append(
                VersionInfo(
                    version=version,
                    message=subject,
                    committed_at=datetime.fromisoformat(date),
                    segments=len(manifest.segments),
                    # Tombstones always name messages of the version's own segments.
                    messages=sum(entry.messages for entry in manifest.segments)
                    - len(manifest.tombstones),
                    added=added,
                    removed=removed,
                )
            )
            previous = manifest
        return VersionsListed(versions=versions)

    def compare(self, request: VersionsCompareRequested) -> VersionsCompared:
        collection = self.manifests.collection(request.org_id, request.collection_id)
        base = self._ids(collection, self.manifests.manifest(collection, request.base))
        other = self._ids(collection, self.manifests.manifest(collection, request.other))
        added, removed = sorted(other - base), sorted(base - other)
        return VersionsCompared(
            base=request.base,
            other=request.other,
            added=len(added),
            removed=len(removed),
            added_ids=added[: request.limit],
            removed_ids=removed[: request.limit],
        )

    def restore(self, request: VersionRestoreRequested) -> VersionRestored:
        with self.ingestor.lock:
            collection = self.ingestor.open_for_writing(request.org_id, request.collection_id)
            if collection is None:
                raise PermanentError(f"no collection {request.collection_id!r}", code="not_found")
            current = collection.manifest()
            old = (
                collection.manifest_at(request.version)
                if request.version <= current.version
                else None
            )
            if old is None:
                raise PermanentError(f"no version {request.version}", code="version_not_found")
            now, then = self._ids(collection, current), self._ids(collection, old)
            stats = {
                "restored": request.version,
                "added": len(then - now),
                "removed": len(now - then),
            }
            new = collection.restore(
                old,
                f"restored v{request.version}: {stats['added']} messages added, "
                f"{stats['removed']} removed",
                stats,
            )
        log.info(
            "version restored",
            extra={
                "collection_id": request.collection_id,
                "restored": request.version,
                "version": new.version,
            },
        )
        # Announced like an ingest, so whoever tracks versions (the gateway) follows. A restore
        # repeated after a failed announcement makes another version and announces that one.
        self.ingestor.publish(
            IndexRestored(
                org_id=request.org_id,
                collection_id=request.collection_id,
                version=new.version,
                restored=request.version,
                stats=stats,
            )
        )
        return VersionRestored(
            version=new.version,
            restored=request.version,
            added=stats["added"],
            removed=stats["removed"],
        )

    def _ids(self, collection: Collection, manifest: Manifest) -> set[str]:
        """The ids of the messages live in ``manifest``: its segments' less its tombstones."""
        ids: set[str] = set()
        for entry in manifest.segments:
            ids |= self.segments.get(collection.segment_path(entry.id)).message_ids
        return ids - set(manifest.tombstones)

    def _delta(
        self, collection: Collection, previous: Manifest | None, current: Manifest
    ) -> tuple[int, int]:
        """Messages added and removed between two versions: from the segment lists when
        segments were only added and the tombstones did not change (an ingest), from the
        tombstones when the segments did not change (a deletion), and by comparing ids otherwise
        (a compaction, whose merged segment holds messages already live, or a restore)."""
        if previous is None:
            return _segment_delta(previous, current)
        old_segments = {e.id for e in previous.segments}
        new_segments = {e.id for e in current.segments}
        if previous.tombstones == current.tombstones and old_segments <= new_segments:
            return _segment_delta(previous, current)
        before, after = set(previous.tombstones), set(current.tombstones)
        if old_segments == new_segments:
            return len(before - after), len(after - before)
        try:
            old, new = self._ids(collection, previous), self._ids(collection, current)
        except FileNotFoundError:  # a segment no longer in the working tree: count segments
            return _segment_delta(previous, current)
        return len(new - old), len(old - new)


def _segment_delta(previous: Manifest | None, current: Manifest) -> tuple[int, int]:
    """Messages added and removed between two versions, from their segment lists.

    Exact because a message lives in one live segment only (seals skip what is already live).
    """
    before = {e.id: e.messages for e in previous.segments} if previous is not None else {}
    after = {e.id: e.messages for e in current.segments}
    return (
        sum(n for s, n in after.items() if s not in before),
        sum(n for s, n in before.items() if s not in after),
    )
