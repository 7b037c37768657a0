"""One collection on disk: a Git repository whose commits are the index versions.

A version is written in the order segment files, job record, manifest (each atomically), then
committed and tagged ``v<N>``. A crash anywhere before the commit leaves a working tree that
differs from HEAD; :meth:`Collection.recover` rolls it back, and the redelivered job redoes the
version. Readers trust a working-tree manifest only once its tag exists
(:meth:`Collection.has_version`).
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from chatlens.index.keyword import KeywordIndex
from chatlens.index.storage import atomic
from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.ann import AnnConfig
from chatlens.index.storage.gitrepo import GitRepo
from chatlens.index.storage.layout import segment_id_for
from chatlens.index.storage.manifest import Manifest, SegmentEntry
from chatlens.index.storage.segment import write_segment
from chatlens.shared.schemas import ChatMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewSegment:
    """What a sealed job adds: messages in seq order, and normalised vectors by message id."""

    messages: list[ChatMessage]
    vector_ids: list[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class MergedSegment:
    """What a compaction writes: the kept messages of ``replaced`` segments, in their order."""

    segment_id: str
    replaced: list[str]
    messages: list[ChatMessage]
    vector_ids: list[str]
    vectors: np.ndarray
    keywords: KeywordIndex
    origins: list[tuple[str, int]]
    dropped: list[str]  # tombstoned message ids left out
    # Each kept row's hubness from its source segment, so compacting ranks nothing differently;
    # None when a source has none (then it is computed over the merged segment).
    hubness: np.ndarray | None = None


def tag_name(version: int) -> str:
    return f"v{version}"


class Collection:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.git = GitRepo(self.path)

    def exists(self) -> bool:
        return (self.path / ".git").is_dir() and (self.path / manifest_file.FILENAME).is_file()

    @classmethod
    def create(cls, path: Path, dim: int) -> Collection:
        """Create the repository with an empty version 0, appearing at ``path`` all at once."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Built under a dot-name (never a valid collection id) and renamed into place, so no
        # reader ever sees a half-initialised repository.
        tmp = cls(path.parent / f".new-{path.name}-{uuid.uuid4().hex[:8]}")
        tmp.path.mkdir()
        try:
            tmp.git.init()
            atomic.write_json(tmp.path / manifest_file.FILENAME, Manifest(dim=dim).to_json())
            tmp.git.commit_all("v0: collection created")
            tmp.git.tag(tag_name(0))
            tmp.path.rename(path)
        except BaseException:
            shutil.rmtree(tmp.path, ignore_errors=True)
            raise
        atomic.fsync_dir(path.parent)
        log.info("collection created", extra={"path": str(path)})
        return cls(path)

    def recover(self) -> bool:
        """Roll an interrupted version back to HEAD, and tag HEAD if the crash hit before the tag.

        Only the writer may call this: a reader would destroy a version being written.
        Returns True when something was rolled back.
        """
        rolled_back = self.git.is_dirty()
        if rolled_back:
            log.warning(
                "working tree differs from HEAD; rolling back an interrupted version",
                extra={"path": str(self.path)},
            )
            self.git.rollback()
        head = self.manifest()
        if not self.has_version(head.version):
            self.git.tag(tag_name(head.version))
        return rolled_back

    def manifest(self) -> Manifest:
        """The working tree's manifest (the writer's view)."""
        return Manifest.parse((self.path / manifest_file.FILENAME).read_bytes())

    def manifest_at(self, version: int) -> Manifest | None:
        """The manifest of a tagged version, or None when there is no such version."""
        raw = self.git.show(f"refs/tags/{tag_name(version)}", manifest_file.FILENAME)
        return None if raw is None else Manifest.parse(raw)

    def has_version(self, version: int) -> bool:
        """True once ``version`` is committed and tagged."""
        return self.git.rev_parse(f"refs/tags/{tag_name(version)}") is not None

    def head_manifest(self) -> Manifest:
        """The manifest of HEAD, the latest committed version."""
        raw = self.git.show("HEAD", manifest_file.FILENAME)
        if raw is None:
            raise FileNotFoundError(f"no committed manifest in {self.path}")
        return Manifest.parse(raw)

    def segment_path(self, segment_id: str) -> Path:
        return self.path / "segments" / segment_id

    def job_stats(self, job_id: str) -> dict:
        """The stats recorded when ``job_id`` was sealed."""
        return json.loads((self.path / "jobs" / f"{job_id}.json").read_text(encoding="utf-8"))

    def add_version(
        self,
        job_id: str,
        segment: NewSegment | None,
        stats: dict,
        summary: str,
        ann: AnnConfig | None = None,
        revived: frozenset[str] = frozenset(),
    ) -> Manifest:
        """Write, commit and tag the next version; the manifest is the last file written.

        ``ann`` says when the new segment gets an ANN index (exact when None)."""
        current = self.manifest()
        entry = None
        if segment is not None:
            segment_id = segment_id_for(job_id)
            write_segment(
                self.segment_path(segment_id),
                segment.messages,
                segment.vector_ids,
                segment.vectors,
                ann,
            )
            entry = SegmentEntry(
                id=segment_id,
                job_id=job_id,
                messages=len(segment.messages),
                vectors=len(segment.vector_ids),
                created_at=datetime.now(UTC),
            )
        jobs_dir = self.path / "jobs"
        jobs_dir.mkdir(exist_ok=True)
        atomic.write_json(jobs_dir / f"{job_id}.json", stats)
        new = current.with_version(job_id, entry, revived)
        atomic.write_json(self.path / manifest_file.FILENAME, new.to_json())
        body = json.dumps(stats, sort_keys=True)
        self.git.commit_all(f"{tag_name(new.version)}: {summary}\n\n{body}\n")
        self.git.tag(tag_name(new.version))
        return new

    def delete_messages(
        self, deletion_id: str, message_ids: set[str], stats: dict, summary: str
    ) -> Manifest:
        """Commit and tag a new version whose tombstones add ``message_ids``; the stats are kept
        as ``jobs/<deletion_id>.json`` like a job's, for a redelivered request's answer."""
        jobs_dir = self.path / "jobs"
        jobs_dir.mkdir(exist_ok=True)
        atomic.write_json(jobs_dir / f"{deletion_id}.json", stats)
        new = self.manifest().deleting(deletion_id, message_ids)
        atomic.write_json(self.path / manifest_file.FILENAME, new.to_json())
        body = json.dumps(stats, sort_keys=True)
        self.git.commit_all(f"{tag_name(new.version)}: {summary}\n\n{body}\n")
        self.git.tag(tag_name(new.version))
        return new

    def set_people(self, request_id: str, people: dict[str, list[str]], summary: str) -> Manifest:
        """Commit and tag a new version whose grouping of senders into people is ``people``."""
        new = self.manifest().grouping(request_id, people)
        atomic.write_json(self.path / manifest_file.FILENAME, new.to_json())
        self.git.commit_all(f"{tag_name(new.version)}: {summary}\n")
        self.git.tag(tag_name(new.version))
        return new

    def compact(
        self, merged: MergedSegment, summary: str, stats: dict, ann: AnnConfig | None = None
    ) -> Manifest:
        """Commit and tag a new version where ``merged`` replaces its source segments.

        Written like :meth:`add_version` (segment files, then the manifest, then commit and tag),
        so :meth:`recover` rolls an interrupted compaction back. The sources stay in Git: older
        versions keep naming them.
        """
        current = self.manifest()
        write_segment(
            self.segment_path(merged.segment_id),
            merged.messages,
            merged.vector_ids,
            merged.vectors,
            ann,
            keywords=merged.keywords,
            origins=merged.origins,
            hubness=merged.hubness,
        )
        entry = SegmentEntry(
            id=merged.segment_id,
            job_id="",
            messages=len(merged.messages),
            vectors=len(merged.vector_ids),
            created_at=datetime.now(UTC),
        )
        new = current.compacting(merged.replaced, entry, merged.dropped)
        atomic.write_json(self.path / manifest_file.FILENAME, new.to_json())
        body = json.dumps(stats, sort_keys=True)
        self.git.commit_all(f"{tag_name(new.version)}: {summary}\n\n{body}\n")
        self.git.tag(tag_name(new.version))
        return new

    def restore(self, old: Manifest, summary: str, stats: dict) -> Manifest:
        """Commit and tag a new version whose live segments are those of ``old``."""
        new = self.manifest().restoring(old)
        atomic.write_json(self.path / manifest_file.FILENAME, new.to_json())
        body = json.dumps(stats, sort_keys=True)
        self.git.commit_all(f"{tag_name(new.version)}: {summary}\n\n{body}\n")
        self.git.tag(tag_name(new.version))
        return new

    def history(self) -> list[tuple[int, str, str, Manifest]]:
        """(version, commit date, subject, manifest) of every tagged version, oldest first."""
        tags = []
        for name, date, subject in self.git.tag_log():
            if name[1:].isdigit():
                tags.append((int(name[1:]), date, subject))
        tags.sort()
        raws = self.git.show_many(
            [f"refs/tags/{tag_name(v)}:{manifest_file.FILENAME}" for v, _, _ in tags]
        )
        return [
            (v, date, subject, Manifest.parse(raw))
            for (v, date, subject), raw in zip(tags, raws, strict=True)
            if raw is not None
        ]
