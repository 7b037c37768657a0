"""Job events from the bus (progress, failure, index updated) applied to the job rows; a
finished job's upload file removed (``chatlens.gateway.retention``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from chatlens.gateway.db import Job
from chatlens.gateway.jobs import TERMINAL, apply_event
from chatlens.gateway.retention import remove_upload
from chatlens.shared import schemas
from chatlens.shared.bus import Delivery, TransientError


def job_event_handler(
    sessions: sessionmaker[Session],
    upload_dir: Path | None = None,
    wake: Callable[[], None] = lambda: None,
) -> Callable[[schemas.Message, Delivery], None]:
    """Applies job events; once a job is finished for good its upload file goes, and ``wake``
    tells the outbox relay that a failure left a message for the index (JobAbandoned)."""

    def handle(message: schemas.Message, delivery: Delivery) -> None:
        try:
            with sessions() as session:
                apply_event(session, message)
                session.commit()
                job = session.get(Job, getattr(message, "job_id", None) or "")
                finished = job is not None and job.status in TERMINAL
        except OperationalError as exc:  # database locked or away: worth another try
            raise TransientError(str(exc)) from exc
        if finished and job is not None and upload_dir is not None:
            remove_upload(upload_dir, job.org_id, job.id)
        if isinstance(message, schemas.JobFailed):
            wake()

    return handle
