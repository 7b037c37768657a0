"""Pruning the delivery log: finished deliveries (delivered or dead) and their attempts go after
a retention period; a pending one stays however old (it is still owed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from chatlens.gateway.webhooks.tables import WebhookAttempt, WebhookDelivery


def prune(sessions: sessionmaker[Session], before: datetime, batch: int = 500) -> int:
    """Delete deliveries finished before ``before`` with their attempts, ``batch`` per
    transaction; how many deliveries went."""
    removed = 0
    while True:
        with sessions.begin() as session:
            ids = session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status.in_(("delivered", "dead")),
                    WebhookDelivery.finished_at < before,
                )
                .limit(batch)
            ).all()
            if not ids:
                return removed
            session.execute(
                delete(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            session.execute(
                delete(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            removed += len(ids)
