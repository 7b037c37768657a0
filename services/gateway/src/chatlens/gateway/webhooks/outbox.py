"""Webhook deliveries written in the caller's transaction, beside the change they announce.

A job's end and its deliveries commit together (``jobs.apply_event``), and a version's move and
its ``version.created`` deliveries too (:func:`advance_version`): an event is announced if and
only if it happened, and the dispatcher sends what was committed. The body is fixed here, so
every attempt sends (and signs) the same bytes with the same delivery id.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatlens.gateway.db import Collection, new_id, utcnow
from chatlens.gateway.webhooks.tables import Webhook, WebhookDelivery


def delivery(hook: Webhook, event: str, data: dict[str, Any]) -> WebhookDelivery:
    """A pending delivery of ``event`` to ``hook`` (not yet added to a session)."""
    delivery_id, now = new_id(), utcnow()
    body = json.dumps(
        {
            "id": delivery_id,
            "type": event,
            "created_at": now.isoformat() + "Z",
            "org_id": hook.org_id,
            "collection_id": hook.collection_id,
            "webhook_id": hook.id,
            "data": data,
        },
        separators=(",", ":"),
    )
    return WebhookDelivery(
        id=delivery_id,
        webhook_id=hook.id,
        org_id=hook.org_id,
        event=event,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def enqueue(session: Session, collection_id: str, event: str, data: dict[str, Any]) -> int:
    """Stage ``event`` for every active webhook of the collection that asked for it."""
    hooks = session.scalars(
        select(Webhook).where(Webhook.collection_id == collection_id, Webhook.active.is_(True))
    ).all()
    staged = [delivery(hook, event, data) for hook in hooks if event in hook.events]
    session.add_all(staged)
    return len(staged)


def advance_version(
    session: Session, collection: Collection, version: int, cause: str, job_id: str | None = None
) -> bool:
    """Move the collection to ``version`` if it is newer, and stage ``version.created`` then.

    The move is one conditional UPDATE, so of two transactions that learn of the same version
    (a restore's answer and its ``IndexRestored`` event) exactly one moves it and announces it.
    """
    moved = session.execute(
        update(Collection)
        .where(Collection.id == collection.id, Collection.version < version)
        .values(version=version)
        .execution_options(synchronize_session=False)
    )
    if not getattr(moved, "rowcount", 0):
        return False
    session.expire(collection, ["version"])
    enqueue(
        session,
        collection.id,
        "version.created",
        {"collection_id": collection.id, "version": version, "cause": cause, "job_id": job_id},
    )
    return True
