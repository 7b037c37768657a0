"""The audit log: who did what, when, from where, in which org. Append-only.

:func:`record` adds an event to the caller's transaction, so it commits with the change it
describes; failures that roll back (a wrong password) commit their event on their own.
Event names are ``thing.past_tense`` (``login.failed``, ``role.changed``, ``api_key.created``).
"""

from __future__ import annotations

import json
import logging

from flask import has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.auth.tables import AuditEvent, utcnow
from chatlens.shared import logs

log = logging.getLogger(__name__)

DETAILS_MAX = 2000


def record(
    session: Session,
    event: str,
    *,
    org_id: str | None = None,
    actor_id: str | None = None,
    target: str | None = None,
    details: dict | None = None,
    **more,
) -> None:
    """Add one event; the request's address, user agent and correlation id come along."""
    details = {**(details or {}), **more}
    address = user_agent = None
    if has_request_context():
        address = (request.remote_addr or "")[:64] or None
        user_agent = (request.headers.get("User-Agent") or "")[:255] or None
    text = json.dumps(details, sort_keys=True, default=str) if details else None
    if text and len(text) > DETAILS_MAX:
        text = json.dumps({"truncated": text[: DETAILS_MAX // 2]})
    session.add(
        AuditEvent(
            at=utcnow(),
            event=event,
            org_id=org_id,
            actor_id=actor_id,
            target=(target or "")[:320] or None,
            address=address,
            user_agent=user_agent,
            details=text,
            correlation_id=(logs.get_correlation_id() or "")[:64] or None,
        )
    )
    log.info("audit: %s", event, extra={"event": event, "org_id": org_id, "actor_id": actor_id})


def events(
    session: Session,
    org_id: str | None,
    limit: int,
    before: int | None = None,
    event: str | None = None,
) -> list[dict]:
    """Newest first; ``org_id`` None means every org (the admin CLI)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if event is not None:
        query = query.where(AuditEvent.event == event)
    return [view(row) for row in session.scalars(query)]


def view(row: AuditEvent) -> dict:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "event": row.event,
        "org_id": row.org_id,
        "actor_id": row.actor_id,
        "target": row.target,
        "address": row.address,
        "user_agent": row.user_agent,
        "correlation_id": row.correlation_id,
        "details": json.loads(row.details) if row.details else {},
    }
