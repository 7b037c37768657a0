"""Removing what the index keeps for work that will never finish, and for deleted collections.

    abandoned/<job_id>                  a job failed for good: its batches are dropped
    deleted/<org_id>/<collection_id>    the collection was deleted: nothing may recreate it
                                        (its computed topics go too: ``TopicsCache``)

A failed job's staged batches would otherwise wait forever for batches that never come; a
deleted collection's shards would otherwise stay on disk. The markers are kept because RabbitMQ
redelivers: a batch of an abandoned job, or of a deleted collection, that arrives late (or
again) must not stage anything or create the collection anew. Ids are never reused (uuids), so a
marker never blocks later work.
"""

from __future__ import annotations

import logging
import shutil
import uuid

from chatlens.index.analytics.topics_cache import TopicsCache
from chatlens.index.storage import atomic
from chatlens.index.storage.history import ASIDE, DELETED, clean_aside
from chatlens.index.storage.layout import Layout, is_safe_id
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import CollectionDeleted, JobAbandoned

log = logging.getLogger(__name__)


def _mark(layout: Layout, *parts: str) -> None:
    path = layout.root.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, b"")


def is_discarded(layout: Layout, org_id: str, collection_id: str, job_id: str) -> bool:
    """True when the job was abandoned or its collection deleted."""
    return (layout.root / "abandoned" / job_id).exists() or (
        layout.root / "deleted" / org_id / collection_id
    ).exists()


def abandon(layout: Layout, org_id: str, collection_id: str, job_id: str) -> None:
    """Mark the job abandoned and remove its staged batches (idempotent)."""
    _mark(layout, "abandoned", job_id)
    staging = layout.staging(org_id, collection_id, job_id)
    if staging.exists():
        shutil.rmtree(staging)
        log.info("staged batches of an abandoned job removed", extra={"job_id": job_id})


class Cleaner:
    """The ingest queue's clean-up messages; called with the writer's lock held."""

    def __init__(self, layout: Layout, topics: TopicsCache | None = None) -> None:
        self.layout = layout
        self.topics = topics or TopicsCache(layout.root / "cache" / "topics")

    def on_abandoned(self, message: JobAbandoned) -> None:
        _check_ids(message.org_id, message.collection_id, message.job_id)
        abandon(self.layout, message.org_id, message.collection_id, message.job_id)

    def on_collection_deleted(self, message: CollectionDeleted) -> None:
        """Mark the collection deleted, then remove its repository and its staging."""
        _check_ids(message.org_id, message.collection_id)
        _mark(self.layout, "deleted", message.org_id, message.collection_id)
        path = self.layout.collection(message.org_id, message.collection_id)
        if path.exists():
            # Renamed out of the way first, so no reader sees a half-removed repository;
            # clean_aside removes it (now, or after a crash).
            path.rename(path.with_name(f"{ASIDE}{path.name}-{DELETED}{uuid.uuid4().hex[:8]}"))
            atomic.fsync_dir(path.parent)
        clean_aside(path)
        staging = self.layout.root / "staging" / message.org_id / message.collection_id
        shutil.rmtree(staging, ignore_errors=True)
        self.topics.drop(message.org_id, message.collection_id)
        log.info("collection removed", extra={"collection_id": message.collection_id})


def _check_ids(*ids: str) -> None:
    for value in ids:
        if not is_safe_id(value):
            raise PermanentError(f"{value!r} is not a valid id")
