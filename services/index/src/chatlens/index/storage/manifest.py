"""``manifest.json``: which segments are live in a version, and which jobs made which version.

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
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 0
    segments: list[SegmentEntry] = []
    jobs: dict[str, int] = {}
    dim: int = 384

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        return cls.model_validate_json(raw)

    def restoring(self, old: Manifest) -> Manifest:
        """The next version, with the segments of ``old``; the record of sealed jobs is kept, so
        a redelivered job that ``old`` predates is still recognised as done."""
        return Manifest(version=self.version + 1, segments=list(old.segments), jobs=dict(self.jobs),
                        dim=self.dim)

    def with_version(self, job_id: str, segment: SegmentEntry | None) -> Manifest:
        """The next version: ``segment`` (if any) added, ``job_id`` recorded."""
        version = self.version + 1
        segments = [*self.segments, segment] if segment is not None else list(self.segments)
        return Manifest(version=version, segments=segments, jobs={**self.jobs, job_id: version},
                        dim=self.dim)
