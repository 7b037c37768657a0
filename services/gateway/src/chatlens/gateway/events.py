"""Job events from the bus (progress, failure, index updated) applied to the job rows."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from chatlens.gateway.jobs import apply_event
from chatlens.shared import schemas
from chatlens.shared.bus import Delivery, TransientError


def job_event_handler(sessions: sessionmaker):
    def handle(message: schemas.Message, delivery: Delivery) -> None:
        try:
            with sessions() as session:
                apply_event(session, message)
                session.commit()
        except OperationalError as exc:  # database locked or away: worth another try
            raise TransientError(str(exc)) from exc

    return handle
