"""The gateway's business metrics: jobs entering each state, and how long finished ones took.

A job's state changes inside the transaction that applies a bus event, which may roll back and
be redelivered: the change is counted when that transaction commits, not before, so a retried
event is counted once.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from chatlens.gateway.db import Job, utcnow

JOBS = Counter("chatlens_gateway_jobs_total", "Ingest jobs that entered a state", ["status"])
JOB_SECONDS = Histogram(
    "chatlens_gateway_job_seconds",
    "Time from upload to a job's end, by final state",
    ["status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
RATE_LIMIT_FALLBACK = Counter(
    "chatlens_gateway_ratelimit_fallback_total",
    "Rate-limit checks counted in this process's memory because Redis was unreachable",
)
_PENDING = "chatlens_job_metrics"


def job_entered(session: Session, job: Job, status: str) -> None:
    """Count ``job`` entering ``status`` once ``session`` commits (with its duration when the
    state is final)."""
    pending = session.info.setdefault(_PENDING, [])
    if not pending:
        event.listen(session, "after_commit", _publish, once=True)
        event.listen(session, "after_soft_rollback", _forget, once=True)
    seconds = None
    if status in ("succeeded", "failed") and job.created_at is not None:
        seconds = max((utcnow() - job.created_at).total_seconds(), 0.0)
    pending.append((status, seconds))


def _publish(session: Session) -> None:
    for status, seconds in session.info.pop(_PENDING, []):
        JOBS.labels(status).inc()
        if seconds is not None:
            JOB_SECONDS.labels(status).observe(seconds)


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)
