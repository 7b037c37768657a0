"""``manifest.json``: which segments are live in a version, which of their messages are deleted
(tombstones), and which jobs made which version.

It is the last file written for a version, so every segment it names is complete on disk.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

FILENAME = "manifest.json"


class SegmentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    job_id: str
    messages: int
    vectors: int
    created_at: datetime


class Manifest(BaseModel):
    """One version. Forward compatible: a field this code does not know (written by a newer
    release, as ``people`` once was) is read, kept and written again with every later version,
    never refused; so every field added from now on must be optional (have a default)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    version: int = 0
    segments: list[SegmentEntry] = []
    jobs: dict[str, int] = {}
    dim: int = 384
    # Message ids deleted from this version while their segments stay (segments are immutable):
    # search, context and lookups skip them. Sorted; compaction may drop them with the messages.
    tombstones: list[str] = []
    # People across platforms: a person's name -> the sender names counted as that person
    # (analytics reads senders through it). Merged and split in versions of their own.
    people: dict[str, list[str]] = {}

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        return cls.model_validate_json(raw)

    def restoring(self, old: Manifest) -> Manifest:
        """The next version, with the segments of ``old``; the record of sealed jobs is kept, so
        a redelivered job that ``old`` predates is still recognised as done."""
        return self.model_copy(
            update={
                "version": self.version + 1,
                "segments": list(old.segments),
                "jobs": dict(self.jobs),
                "tombstones": list(old.tombstones),
                "people": dict(old.people),
            }
        )

    def with_version(
        self, job_id: str, segment: SegmentEntry | None, revived: frozenset[str] = frozenset()
    ) -> Manifest:
        """The next version: ``segment`` (if any) added, ``job_id`` recorded, and the deleted
        messages the job brought again (``revived``) live again."""
        version = self.version + 1
        segments = [*self.segments, segment] if segment is not None else list(self.segments)
        return self.model_copy(
            update={
                "version": version,
                "segments": segments,
                "jobs": {**self.jobs, job_id: version},
                "tombstones": [t for t in self.tombstones if t not in revived],
                "people": dict(self.people),
            }
        )

    def deleting(self, deletion_id: str, message_ids: set[str]) -> Manifest:
        """The next version, with ``message_ids`` tombstoned and the deletion recorded in
        ``jobs`` (a redelivered request finds it there and is answered, not redone)."""
        version = self.version + 1
        return self.model_copy(
            update={
                "version": version,
                "jobs": {**self.jobs, deletion_id: version},
                "tombstones": sorted(set(self.tombstones) | message_ids),
            }
        )

    def grouping(self, request_id: str, people: dict[str, list[str]]) -> Manifest:
        """The next version with ``people`` as its grouping of senders, the request recorded in
        ``jobs`` (a redelivered request finds it there)."""
        version = self.version + 1
        return self.model_copy(
            update={
                "version": version,
                "jobs": {**self.jobs, request_id: version},
                "people": people,
            }
        )

    def compacting(self, replaced: list[str], merged: SegmentEntry, dropped: list[str]) -> Manifest:
        """The next version: ``merged`` takes the place of the first ``replaced`` segment and the
        others go; the tombstones of ``dropped`` messages (left out of ``merged``) are cleared.
        Everything else (the record of sealed jobs above all) is kept."""
        gone = set(replaced)
        segments: list[SegmentEntry] = []
        for entry in self.segments:
            if entry.id not in gone:
                segments.append(entry)
            elif merged not in segments:
                segments.append(merged)
        cleared = set(dropped)
        tombstones = [t for t in getattr(self, "tombstones", ()) if t not in cleared]
        return self.model_copy(
            update={"version": self.version + 1, "segments": segments, "tombstones": tombstones}
        )
