"""Ingestion: stage a job's batches, and seal a complete job into a new collection version.

Idempotent by construction, because RabbitMQ redelivers: staged files are named after the
message, a sealed job is recorded in the manifest's ``jobs`` (so it is never written twice, only
announced again), and a seal interrupted before its commit is rolled back and redone whole.

One writer per process: the ingest consumer runs a single worker thread, and a restore (an RPC,
on another thread) takes ``Ingestor.lock`` like the ingest handler does, so writes never overlap.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from chatlens.index.cleanup import abandon, is_discarded
from chatlens.index.sealing import check_batch, plan_seal
from chatlens.index.staging import JobStaging
from chatlens.index.storage.ann import AnnConfig
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.history import clean_aside
from chatlens.index.storage.layout import Layout, is_safe_id
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.handling import Publish
from chatlens.shared.schemas import (
    ChunksEmbedded,
    EmbeddingFinished,
    IndexUpdated,
    JobFailed,
    JobProgressed,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    job_id: str
    org_id: str
    collection_id: str


class Ingestor:
    def __init__(
        self,
        layout: Layout,
        publish: Publish,
        segments: SegmentCache,
        dim: int,
        ann: AnnConfig | None = None,
    ) -> None:
        self.layout, self.publish, self.segments, self.dim = layout, publish, segments, dim
        # When a sealed segment gets an ANN index; the defaults unless the settings say more.
        self.ann = ann if ann is not None else AnnConfig()
        self._recovered: set[Path] = set()
        self.lock = threading.Lock()  # held by whoever writes: the ingest handler, a restore

    # --- entry points ----------------------------------------------------------------------
    def on_batch(self, batch: ChunksEmbedded) -> None:
        job = _job(batch)
        if self._discarded(job):
            return
        collection = self._open(job, create=False)
        if collection is not None and job.job_id in collection.manifest().jobs:
            if self._staging(job).exists():  # sealed, but we crashed before announcing it
                self._announce_again(job, collection)
            else:
                log.info(
                    "batch for a sealed job ignored",
                    extra={"job_id": job.job_id, "batch_no": batch.batch_no},
                )
            return
        check_batch(batch, collection.manifest().dim if collection is not None else self.dim)
        self._staging(job).put_batch(batch)
        self._seal_if_complete(job)

    def on_finished(self, finished: EmbeddingFinished) -> None:
        job = _job(finished)
        if self._discarded(job):
            return
        if finished.batches < 0:
            raise PermanentError(f"batches {finished.batches} is negative")
        collection = self._open(job, create=False)
        if collection is not None and job.job_id in collection.manifest().jobs:
            self._announce_again(job, collection)
            return
        self._staging(job).put_expected(finished)
        self._seal_if_complete(job)

    def fail(self, message: ChunksEmbedded | EmbeddingFinished, error: PermanentError) -> None:
        """Tell the gateway a job cannot finish, so it does not wait for it forever; what it
        staged goes (and what else comes for it is dropped)."""
        if all(
            is_safe_id(getattr(message, name)) for name in ("job_id", "org_id", "collection_id")
        ):
            abandon(self.layout, message.org_id, message.collection_id, message.job_id)
        self.publish(JobFailed(job_id=message.job_id, code=error.code, reason=str(error)))

    def _discarded(self, job: Job) -> bool:
        if not is_discarded(self.layout, job.org_id, job.collection_id, job.job_id):
            return False
        log.info(
            "message for an abandoned job or a deleted collection dropped",
            extra={"job_id": job.job_id, "collection_id": job.collection_id},
        )
        return True

    # --- sealing ---------------------------------------------------------------------------
    def _seal_if_complete(self, job: Job) -> None:
        staging = self._staging(job)
        if not staging.is_complete():
            return
        expected = staging.expected()
        assert expected is not None  # is_complete() checked it
        collection = self._open(job, create=True)
        manifest = collection.manifest()
        existing: set[str] = set()
        for entry in manifest.segments:
            existing |= self.segments.get(collection.segment_path(entry.id)).message_ids
        batches = staging.batches()
        plan = plan_seal(batches, existing, manifest.dim)
        stats = {**expected.stats, **plan.stats}
        summary = (
            f"job {job.job_id}: {stats['added']} messages added, "
            f"{stats['duplicates']} duplicates skipped"
        )
        # Deleted messages uploaded again are live again (their segment still holds them), as
        # they would be after a purge or once compaction had dropped them.
        revived = frozenset(m.message_id for batch in batches for m in batch.messages) & frozenset(
            manifest.tombstones
        )
        if revived:
            stats["restored"] = len(revived)
            summary += f", {len(revived)} deleted messages restored"
        try:
            new = collection.add_version(
                job.job_id, plan.segment, stats, summary, self.ann, revived
            )
        except BaseException:
            self.needs_recovery(collection)
            raise
        log.info("job sealed", extra={"job_id": job.job_id, "version": new.version, **plan.stats})
        self.publish(
            JobProgressed(
                job_id=job.job_id, stage="indexing", done=expected.batches, total=expected.batches
            )
        )
        self._announce(job, new.version, stats)

    def _announce_again(self, job: Job, collection: Collection) -> None:
        version = collection.manifest().jobs[job.job_id]
        log.info(
            "job already sealed; announcing it again",
            extra={"job_id": job.job_id, "version": version},
        )
        self._announce(job, version, collection.job_stats(job.job_id))

    def _announce(self, job: Job, version: int, stats: dict) -> None:
        self.publish(
            IndexUpdated(
                job_id=job.job_id, collection_id=job.collection_id, version=version, stats=stats
            )
        )
        # Only once the announcement is confirmed: a crash before leaves staging as the mark
        # that the announcement is still owed.
        self._staging(job).remove()

    def open_for_writing(self, org_id: str, collection_id: str) -> Collection | None:
        """An existing collection, recovered, for another writer (a restore) holding ``lock``."""
        if not (is_safe_id(org_id) and is_safe_id(collection_id)):
            return None
        return self._open(Job("", org_id, collection_id), create=False)

    def needs_recovery(self, collection: Collection) -> None:
        """A write to ``collection`` failed part-way: the working tree may now differ from HEAD,
        so roll it back before the next write opens it."""
        self._recovered.discard(collection.path)

    # --- paths -----------------------------------------------------------------------------
    def _staging(self, job: Job) -> JobStaging:
        return JobStaging(self.layout.staging(job.org_id, job.collection_id, job.job_id))

    def _open(self, job: Job, *, create: bool) -> Collection | None:
        """The job's collection, rolled back to HEAD if a seal was interrupted there."""
        collection = Collection(self.layout.collection(job.org_id, job.collection_id))
        if collection.path not in self._recovered:
            clean_aside(collection.path)  # what an interrupted purge or removal left
        if not collection.exists():
            if not create:
                return None
            collection = Collection.create(collection.path, self.dim)
        if collection.path not in self._recovered:
            collection.recover()
            self._recovered.add(collection.path)
        return collection


def _job(message: ChunksEmbedded | EmbeddingFinished) -> Job:
    for name in ("job_id", "org_id", "collection_id"):
        if not is_safe_id(getattr(message, name)):
            raise PermanentError(f"{name} {getattr(message, name)!r} is not a valid id")
    return Job(message.job_id, message.org_id, message.collection_id)
