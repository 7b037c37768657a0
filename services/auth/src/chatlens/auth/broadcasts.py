"""Telling every gateway at once that access ended: publish-after-commit of ``AccessRevoked``;
and every inference replica that an org's provider secret changed (``ProviderSecretsChanged``).

Whatever ends access early (a session revoked, a user's earlier tokens voided, an API key revoked)
calls :func:`note` with the database session doing it. When that session commits, the notes
become one ``AccessRevoked`` broadcast (``chatlens.shared.bus``: every gateway process hears it
and refuses the token or key at once); when it rolls back, they are dropped with it. A provider
secret stored or deleted calls :func:`note_secret` the same way, and its commit becomes one
``ProviderSecretsChanged`` per org: every inference replica drops the key it keeps for 60 s.

Publish-after-commit, not an outbox: the signed revocation feed (``/internal/v1/revocations``,
read from the committed rows) stays the authority, and every gateway polls it. A broadcast lost
to a crash between commit and publish, or to the bus being down, delays refusal to that poll; an
outbox would add a table and a relay to guarantee a message whose loss costs that little (a lost
``ProviderSecretsChanged`` leaves the old key in use until the replicas' 60 s cache expires). The
publish runs on a thread of its own so that a slow or absent broker never slows a logout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from chatlens.shared.schemas import AccessRevoked, Message, ProviderSecretsChanged

log = logging.getLogger(__name__)

NOTES = "chatlens.access_revoked"
SECRETS = "chatlens.provider_secrets_changed"


def note(
    session: Session,
    *,
    sessions: dict[str, int] | None = None,
    users: dict[str, int] | None = None,
    api_keys: Iterable[str] = (),
) -> None:
    """Remember, until ``session`` commits, that these sessions (sid -> epoch), users' earlier
    tokens (user id -> valid-after epoch) and API keys ended."""
    pending = session.info.setdefault(NOTES, {"sessions": {}, "users": {}, "api_keys": set()})
    pending["sessions"].update(sessions or {})
    pending["users"].update(users or {})
    pending["api_keys"].update(api_keys)


def note_secret(session: Session, org_id: str, name: str) -> None:
    """Remember, until ``session`` commits, that the org's provider secret ``name`` changed."""
    session.info.setdefault(SECRETS, {}).setdefault(org_id, set()).add(name)


class RevocationBroadcaster:
    """Publishes the notes of each committed session as one ``AccessRevoked`` (see the module)."""

    def __init__(self, publish: Callable[[Message], None]) -> None:
        self._publish = publish
        # One thread: broadcasts leave in commit order, and the request never waits for them.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="revocations")

    def attach(self, factory: sessionmaker[Session]) -> RevocationBroadcaster:
        """Publish after every commit of a session made by ``factory``."""
        event.listen(factory, "after_commit", self._committed)
        event.listen(factory, "after_rollback", self._rolled_back)
        return self

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until what was committed so far has been published (or has failed)."""
        self._executor.submit(lambda: None).result(timeout)

    def _committed(self, session: Session) -> None:
        pending = session.info.pop(NOTES, None)
        for org_id, names in sorted(session.info.pop(SECRETS, {}).items()):
            self._executor.submit(
                self._send, ProviderSecretsChanged(org_id=org_id, names=sorted(names))
            )
        if not pending or not any(pending.values()):
            return
        message = AccessRevoked(
            sessions=pending["sessions"],
            users=pending["users"],
            api_keys=sorted(pending["api_keys"]),
        )
        self._executor.submit(self._send, message)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        session.info.pop(NOTES, None)
        session.info.pop(SECRETS, None)

    def _send(self, message: Message) -> None:
        try:
            self._publish(message)
        except Exception as exc:  # committed already: the feed's poll (or the 60 s) covers it
            if isinstance(message, ProviderSecretsChanged):
                log.warning(
                    "could not broadcast a provider secret change; inference replicas "
                    "use the old key until their cache expires",
                    extra={"error": repr(exc), "org_id": message.org_id},
                )
                return
            assert isinstance(message, AccessRevoked)
            log.warning(
                "could not broadcast a revocation; gateways learn it from the feed",
                extra={
                    "error": repr(exc),
                    "sessions": len(message.sessions),
                    "users": len(message.users),
                    "api_keys": len(message.api_keys),
                },
            )
