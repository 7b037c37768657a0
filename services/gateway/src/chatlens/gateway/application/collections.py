"""Collections, their jobs, and uploads: what a user creates, lists, deletes and sends.

An upload is accepted whole or not at all: every file has been checked (``uploads.check_file``)
before any is kept, then each is moved into the upload store and recorded as a queued job with
its ``IngestRequested`` in the same transaction (the outbox), so a job never exists without its
message nor a message without its job.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from chatlens.gateway import jobs
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import Collection, Job, new_id
from chatlens.gateway.retention import remove_upload
from chatlens.shared import schemas


class StoredFile(Protocol):
    """An upload's bytes in the store's incoming area (``uploads.HashingFile``)."""

    @property
    def sha256(self) -> Any: ...  # a hashlib object

    @property
    def size(self) -> int: ...

    def commit(self, destination: Path) -> None: ...


class CheckedFile(Protocol):
    """A file that passed the content checks (``uploads.CheckedFile``)."""

    @property
    def filename(self) -> str: ...

    @property
    def stream(self) -> StoredFile: ...

    @property
    def format(self) -> str: ...


@dataclass(frozen=True)
class AcceptedJob:
    id: str
    filename: str
    status: str


def create(backends: Backends, caller: Caller, name: str, description: str = "") -> dict[str, Any]:
    with backends.sessions() as session:
        collection = Collection(
            org_id=caller.org_id,
            name=name,
            description=description,
            created_by=caller.user_id,
            version=0,
        )
        session.add(collection)
        session.commit()
        return jobs.collection_view(collection)


def list_all(backends: Backends, caller: Caller) -> list[dict[str, Any]]:
    with backends.sessions() as session:
        rows = session.scalars(
            select(Collection)
            .where(Collection.org_id == caller.org_id)
            .order_by(Collection.created_at)
        ).all()
        return [jobs.collection_view(c) for c in rows]


def get(backends: Backends, caller: Caller, collection_id: str) -> dict[str, Any]:
    with backends.sessions() as session:
        return jobs.collection_view(jobs.get_collection(session, caller.org_id, collection_id))


def list_jobs(backends: Backends, caller: Caller, collection_id: str) -> list[dict[str, Any]]:
    with backends.sessions() as session:
        jobs.get_collection(session, caller.org_id, collection_id)
        return [jobs.job_view(j) for j in jobs.list_jobs(session, caller.org_id, collection_id)]


def delete(backends: Backends, caller: Caller, collection_id: str) -> None:
    """The collection and its jobs go; the index removes the shards when it hears of it (the
    outbox: with this commit, surely); the uploads still stored for its jobs go after."""
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        name = collection.name
        job_ids = list(session.scalars(select(Job.id).where(Job.collection_id == collection_id)))
        session.delete(collection)
        jobs.add_to_outbox(
            session, schemas.CollectionDeleted(org_id=caller.org_id, collection_id=collection_id)
        )
        session.commit()
    backends.wake_outbox()
    if backends.upload_dir is not None:
        for job_id in job_ids:
            remove_upload(backends.upload_dir, caller.org_id, job_id)
    if backends.audit is not None:
        backends.audit.record(
            "collection.deleted",
            org_id=caller.org_id,
            actor_id=caller.user_id,
            target=collection_id,
            name=name[:200],
            role=caller.role,
        )


def accept_uploads(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    checked: Sequence[CheckedFile],
    timezone: str | None,
) -> list[AcceptedJob]:
    """Keep every checked file and queue one ingest job each, in one transaction."""
    assert backends.upload_dir is not None, "the gateway's upload store is configured"
    upload_dir = backends.upload_dir
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        accepted: list[AcceptedJob] = []
        for item in checked:
            job_id = new_id()
            key = f"{collection.org_id}/{job_id}/{item.filename}"
            item.stream.commit(upload_dir / key)
            job = jobs.create_ingest_job(
                session,
                collection=collection,
                user_id=caller.user_id,
                job_id=job_id,
                filename=item.filename,
                upload_key=key,
                sha256=item.stream.sha256.hexdigest(),
                size=item.stream.size,
                format=item.format,
                timezone=timezone,
            )
            accepted.append(AcceptedJob(job.id, job.filename, job.status))
        try:
            session.commit()
        except Exception:
            for done in accepted:
                shutil.rmtree(upload_dir / collection.org_id / done.id, ignore_errors=True)
            raise
    backends.wake_outbox()
    return accepted
