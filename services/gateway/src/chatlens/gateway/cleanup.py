"""Clean-up of what the gateway no longer needs (``python -m chatlens.gateway cleanup``, a CronJob
in the chart):

* finished jobs (succeeded or failed) last changed more than ``job_retention`` ago, with their
  upload folders; a running or queued job is never touched, however old;
* outbox messages published more than ``job_retention`` ago (the relay only reads unpublished ones);
* recorded searches and questions (search analytics) older than ``search_retention``;
* stale uploads: files left in the incoming area by an interrupted upload, and job folders whose
  job is finished or was never recorded (a crash between keeping the file and the commit), once
  older than ``upload_grace`` so that an upload being accepted right now is never removed.

Rows go in batches, each its own transaction. The collections' index data is the index's.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session, sessionmaker

from chatlens.gateway.db import Job, OutboxMessage, SearchQueryLog, utcnow
from chatlens.gateway.jobs import TERMINAL
from chatlens.gateway.retention import remove_upload

log = logging.getLogger(__name__)
INCOMING = ".incoming"  # uploads.UploadRequest's area for files still being received


@dataclass(frozen=True)
class CleanupReport:
    jobs: int
    outbox_messages: int
    upload_folders: int
    incoming_files: int
    search_queries: int = 0


def clean(
    sessions: sessionmaker[Session],
    upload_dir: Path,
    *,
    job_retention: timedelta,
    upload_grace: timedelta,
    search_retention: timedelta = timedelta(days=90),
    batch: int = 500,
    now: datetime | None = None,
) -> CleanupReport:
    """Remove finished jobs, published outbox messages, old recorded searches and stale
    uploads; returns what went."""
    now = now or utcnow()
    jobs = _old_jobs(sessions, upload_dir, now - job_retention, batch)
    published = _prune(
        sessions, OutboxMessage, OutboxMessage.published_at < now - job_retention, batch
    )
    searches = _prune(
        sessions, SearchQueryLog, SearchQueryLog.created_at < now - search_retention, batch
    )
    folders, files = _stale_uploads(sessions, upload_dir, upload_grace)
    report = CleanupReport(
        jobs=jobs,
        outbox_messages=published,
        upload_folders=folders,
        incoming_files=files,
        search_queries=searches,
    )
    log.info("gateway clean-up done", extra=vars(report))
    return report


def _prune(
    sessions: sessionmaker[Session],
    table: type[OutboxMessage] | type[SearchQueryLog],
    old: ColumnElement[bool],
    batch: int,
) -> int:
    """Delete the rows of ``table`` that are ``old``, ``batch`` per transaction."""
    removed = 0
    while True:
        with sessions.begin() as session:
            ids = session.scalars(select(table.id).where(old).limit(batch)).all()
            if not ids:
                return removed
            session.execute(
                delete(table).where(table.id.in_(ids)).execution_options(synchronize_session=False)
            )
            removed += len(ids)


def _old_jobs(
    sessions: sessionmaker[Session], upload_dir: Path, before: datetime, batch: int
) -> int:
    removed = 0
    while True:
        with sessions.begin() as session:
            rows = session.execute(
                select(Job.id, Job.org_id)
                .where(Job.status.in_(TERMINAL), Job.updated_at < before)
                .limit(batch)
            ).all()
            if not rows:
                return removed
            session.execute(
                delete(Job)
                .where(Job.id.in_([row.id for row in rows]))
                .execution_options(synchronize_session=False)
            )
        for row in rows:  # after the commit: a failed delete leaves the files too
            remove_upload(upload_dir, row.org_id, row.id)
        removed += len(rows)


def _stale_uploads(
    sessions: sessionmaker[Session], upload_dir: Path, grace: timedelta
) -> tuple[int, int]:
    if not upload_dir.is_dir():
        return 0, 0
    cutoff = time.time() - grace.total_seconds()
    files = 0
    incoming = upload_dir / INCOMING
    if incoming.is_dir():
        for path in incoming.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                files += 1
    candidates = [
        (org.name, folder.name)
        for org in upload_dir.iterdir()
        if org.is_dir() and org.name != INCOMING
        for folder in org.iterdir()
        if folder.is_dir() and folder.stat().st_mtime < cutoff
    ]
    folders = 0
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        with sessions() as session:
            live = set(
                session.scalars(
                    select(Job.id).where(
                        Job.id.in_([job_id for _, job_id in chunk]), Job.status.not_in(TERMINAL)
                    )
                )
            )
        for org_id, job_id in chunk:
            if job_id not in live:
                shutil.rmtree(upload_dir / org_id / job_id, ignore_errors=True)
                folders += 1
    return folders, files
