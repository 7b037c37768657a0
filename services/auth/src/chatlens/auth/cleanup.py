"""Clean-up of what auth no longer needs (``python -m chatlens.auth cleanup``, a CronJob in the
chart): finished login sessions (refresh-token families), finished OAuth authorisations, and
password-reset tokens that expired or were spent (used or superseded by a newer one).

A session's rows go together, never one spent token at a time: a spent token of a live session
is what reveals a stolen token's replay (the whole family is then revoked). A family goes once
every token in it has expired, or once it was revoked, in both cases ``keep`` ago. ``keep`` must
be longer than an access token's life: a revoked family is what refuses the access tokens issued
before its end (``sessions.ensure_live`` and the revocation feed), and those live ``access_ttl_s``.
A reset token goes ``keep`` after it expired or was spent: nothing reads it once it cannot be
used, and ``keep`` leaves a recent reset visible to whoever looks into an account's history.
Deletes run in batches, each its own transaction, so a large backlog never holds long locks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from chatlens.auth.tables import OAuthState, PasswordReset, RefreshToken, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanupReport:
    sessions: int  # refresh-token families removed
    refresh_tokens: int
    oauth_states: int
    password_resets: int = 0


def clean(
    sessions: sessionmaker[Session],
    *,
    keep: timedelta,
    access_ttl: timedelta,
    batch: int = 500,
    now: datetime | None = None,
) -> CleanupReport:
    """Remove finished sessions, OAuth states and reset tokens older than ``keep``; returns
    what went."""
    if keep <= access_ttl:
        raise ValueError(
            f"keep ({keep}) must be longer than an access token's life "
            f"({access_ttl}): a revoked session refuses its access tokens until then"
        )
    before = (now or utcnow()) - keep
    families = tokens = 0
    while True:
        with sessions.begin() as session:
            ended = session.scalars(
                select(RefreshToken.family_id)
                .group_by(RefreshToken.family_id)
                .having(
                    or_(
                        func.max(RefreshToken.expires_at) < before,
                        func.max(RefreshToken.revoked_at) < before,
                    )
                )
                .limit(batch)
            ).all()
            if not ended:
                break
            tokens += session.execute(
                delete(RefreshToken)
                .where(RefreshToken.family_id.in_(ended))
                .execution_options(synchronize_session=False)
            ).rowcount
            families += len(ended)
    states = _prune(sessions, OAuthState.state_hash, OAuthState.expires_at < before, batch)
    resets = _prune(
        sessions,
        PasswordReset.token_hash,
        or_(PasswordReset.expires_at < before, PasswordReset.used_at < before),
        batch,
    )
    report = CleanupReport(
        sessions=families, refresh_tokens=tokens, oauth_states=states, password_resets=resets
    )
    log.info("auth clean-up done", extra=vars(report))
    return report


def _prune(
    sessions: sessionmaker[Session],
    key: InstrumentedAttribute[str],
    old: ColumnElement[bool],
    batch: int,
) -> int:
    """Delete the rows of ``key``'s table that match ``old``, ``batch`` keys per transaction."""
    table, removed = key.class_, 0
    while True:
        with sessions.begin() as session:
            keys = session.scalars(select(key).where(old).limit(batch)).all()
            if not keys:
                return removed
            removed += session.execute(
                delete(table).where(key.in_(keys)).execution_options(synchronize_session=False)
            ).rowcount
