"""Collections and jobs: what the API and the bus events do to the gateway's tables.

Every lookup is scoped by org: an id from another org is simply not found (404, never 403).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.gateway.application.errors import NotFound
from chatlens.gateway.db import Base, Collection, Job, OutboxMessage, utcnow
from chatlens.gateway.metrics import job_entered
from chatlens.gateway.webhooks import outbox as webhooks
from chatlens.shared import logs, schemas

TERMINAL = ("succeeded", "failed")
# An ingest's stages, then a topics job's: progress never moves back along this order.
STAGES = ("parsing", "embedding", "indexing", *schemas.TOPICS_STAGES)


Owned = TypeVar("Owned", bound=Base)


def owned(session: Session, table: type[Owned], row_id: str, org_id: str, what: str) -> Owned:
    """The row ``row_id`` of ``table`` if it belongs to ``org_id``; another org's is not found
    either (``<what>_not_found``), so an id never confirms it exists elsewhere."""
    row = session.get(table, row_id)
    if row is None or getattr(row, "org_id", None) != org_id:
        raise NotFound(f"{what}_not_found", f"no such {what}")
    return row


def get_collection(session: Session, org_id: str, collection_id: str) -> Collection:
    return owned(session, Collection, collection_id, org_id, "collection")


def get_job(session: Session, org_id: str, job_id: str) -> Job:
    return owned(session, Job, job_id, org_id, "job")


def add_to_outbox(session: Session, message: schemas.Message) -> None:
    """Stage a bus message in the caller's transaction; the relay publishes it after commit."""
    session.add(
        OutboxMessage(
            message_id=message.id,
            message_type=message.type,
            body=schemas.encode(message).decode("utf-8"),
            correlation_id=logs.get_correlation_id(),
        )
    )


def create_ingest_job(
    session: Session,
    *,
    collection: Collection,
    user_id: str,
    job_id: str,
    filename: str,
    upload_key: str,
    sha256: str,
    size: int,
    format: str,
    timezone: str | None,
) -> Job:
    """A queued job and its IngestRequested, in the same transaction (the outbox)."""
    job = Job(
        id=job_id,
        org_id=collection.org_id,
        collection_id=collection.id,
        filename=filename,
        upload_key=upload_key,
        sha256=sha256,
        size=size,
        status="queued",
        done=0,
        total=0,
        created_by=user_id,
    )
    session.add(job)
    job_entered(session, job, "queued")
    add_to_outbox(
        session,
        schemas.IngestRequested(
            job_id=job.id,
            org_id=collection.org_id,
            collection_id=collection.id,
            upload_key=upload_key,
            filename=filename,
            sha256=sha256,
            size=size,
            format=format,
            timezone=timezone,
        ),
    )
    return job


def apply_event(session: Session, event: schemas.Message) -> None:
    """Move a job along from a bus event. Idempotent; never leaves a terminal state."""
    if isinstance(event, schemas.IndexRestored):  # a new version without a job
        collection = session.get(Collection, event.collection_id)
        if collection is not None and collection.org_id == event.org_id:
            webhooks.advance_version(session, collection, event.version, "restore")
        return
    job = session.get(Job, getattr(event, "job_id", None) or "")
    if job is None or job.status in TERMINAL:
        return
    if isinstance(event, schemas.JobProgressed | schemas.TopicsProgressed):
        current = STAGES.index(job.stage) if job.stage in STAGES else -1
        incoming = STAGES.index(event.stage)
        if incoming < current or (incoming == current and event.done < job.done):
            return  # a late or redelivered event must not move progress backwards
        if job.status != "running":
            job_entered(session, job, "running")
        job.status, job.stage, job.done, job.total = "running", event.stage, event.done, event.total
    elif isinstance(event, schemas.JobFailed):
        job.status = "failed"
        job_entered(session, job, "failed")
        job.error = {"code": event.code, "message": event.reason}
        # Failed for good: the index drops what it staged for the job (an archive refused
        # mid-stream leaves batches that would otherwise wait forever).
        add_to_outbox(
            session,
            schemas.JobAbandoned(job_id=job.id, org_id=job.org_id, collection_id=job.collection_id),
        )
        job.updated_at = utcnow()
        webhooks.enqueue(session, job.collection_id, "job.failed", job_view(job))
    elif isinstance(event, schemas.TopicsComputed):  # a topics job: nothing new is indexed
        job.status, job.version, job.stats = "succeeded", event.version, event.stats
        job_entered(session, job, "succeeded")
        job.updated_at = utcnow()
        # Announced like an upload's end (a failed one goes through JobFailed above); no
        # version.created: the collection's version does not move.
        webhooks.enqueue(session, job.collection_id, "job.succeeded", job_view(job))
    elif isinstance(event, schemas.IndexUpdated):
        job.status, job.version, job.stage = "succeeded", event.version, "indexing"
        job_entered(session, job, "succeeded")
        job.stats = event.stats
        job.done = job.total = int(event.stats.get("messages", job.total) or 0)
        job.updated_at = utcnow()
        webhooks.enqueue(session, job.collection_id, "job.succeeded", job_view(job))
        collection = session.get(Collection, job.collection_id)
        if collection is not None:
            webhooks.advance_version(session, collection, event.version, "ingest", job.id)
    job.updated_at = utcnow()


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "collection_id": job.collection_id,
        "filename": job.filename,
        "status": job.status,
        "progress": {"stage": job.stage, "done": job.done, "total": job.total},
        "stats": job.stats,
        "error": job.error,
        "version": job.version,
        "created_at": job.created_at.isoformat() + "Z",
        "updated_at": job.updated_at.isoformat() + "Z",
    }


def collection_view(collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "name": collection.name,
        "description": collection.description,
        "version": collection.version,
        "created_at": collection.created_at.isoformat() + "Z",
    }


def list_jobs(session: Session, org_id: str, collection_id: str) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.org_id == org_id, Job.collection_id == collection_id)
            .order_by(Job.created_at.desc())
            .limit(200)
        )
    )
