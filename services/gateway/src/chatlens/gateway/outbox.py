"""The outbox relay: publishes what requests committed to the ``outbox`` table.

A job row and its ``IngestRequested`` commit together; this loop publishes the message with
confirms and only then marks it published. A crash between the two publishes it again, which is
fine: every consumer is idempotent and the message keeps its id. Each publish runs in a PRODUCER
span (``chatlens.shared.tracing``), which the consumers' spans continue.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chatlens.gateway.db import OutboxMessage, utcnow
from chatlens.gateway.polling import PollingLoop
from chatlens.shared import logs, schemas, tracing
from chatlens.shared.bus import Bus


class OutboxRelay(PollingLoop):
    name = "outbox-relay"

    def __init__(self, sessions: sessionmaker[Session], bus: Bus, poll_s: float = 0.2) -> None:
        super().__init__(poll_s)
        self.sessions, self.bus = sessions, bus

    def step(self) -> int:
        return self.publish_pending()

    def publish_pending(self, limit: int = 100) -> int:
        """Publish up to ``limit`` unpublished messages in order; returns how many went out."""
        sent = 0
        with self.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).all()
            for row in rows:
                message = schemas.decode(row.message_type, row.body.encode("utf-8"))
                row.attempts += 1
                with (
                    logs.correlation(row.correlation_id),
                    tracing.span(
                        f"outbox relay {message.type}",
                        "producer",
                        {
                            "messaging.message.id": message.id,
                            "chatlens.outbox.attempt": row.attempts,
                        },
                    ),
                ):
                    try:
                        self.bus.publish(message)
                    except Exception:
                        session.commit()  # keep the attempt count; try again next round
                        raise
                row.published_at = utcnow()
                session.commit()
                sent += 1
        return sent
