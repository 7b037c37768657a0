"""Ending sessions at once, and telling whether an access token's session is still alive.

A session is a refresh family (the ``sid`` claim). Two things end access tokens before ``exp``:

* a revoked family (logout, refresh-token re-use, a revoke from the sessions list): every token
  whose ``sid`` is that family is dead;
* the user's ``sessions_valid_after`` (password, MFA or role change, removal, disable, "sign out
  everywhere"): every token with ``iat`` before it is dead. ``iat`` has whole seconds, so the
  comparison is ``iat < floor(valid_after)``; a token signed earlier in that same second is caught
  because the same change also revokes every family of the user.

Auth checks both on its own endpoints; other services read them from the signed feed of
:func:`revocations` (see the README).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chatlens.auth import accounts, broadcasts
from chatlens.auth.accounts import Account
from chatlens.auth.errors import AccessTokenInvalid
from chatlens.auth.tables import RefreshToken, User, utcnow
from chatlens.auth.tokens import AccessClaims

log = logging.getLogger(__name__)


def end_all(session: Session, user_id: str, reason: str) -> int:
    """End every session of ``user_id`` now; the number of refresh tokens revoked."""
    now = utcnow()
    families = session.scalars(
        select(RefreshToken.family_id)
        .distinct()
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    ).all()
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(sessions_valid_after=now)
        .execution_options(synchronize_session=False)
    )
    revoked = session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Every gateway hears it once this commits (the feed lists the same rows).
    broadcasts.note(
        session, users={user_id: _epoch(now)}, sessions=dict.fromkeys(families, _epoch(now))
    )
    log.info(
        "every session of the user ended",
        extra={"user_id": user_id, "reason": reason, "revoked": revoked},
    )
    return revoked


def family_revoked(session: Session, family_id: str) -> bool:
    query = (
        select(RefreshToken.id)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
        .limit(1)
    )
    return session.scalar(query) is not None


def ensure_live(session: Session, claims: AccessClaims) -> Account:
    """The account behind a verified access token, or :class:`AccessTokenInvalid` if it ended."""
    account = accounts.account_in(session, claims.sub, claims.org)
    if account is None:
        raise AccessTokenInvalid("the account behind this token is no longer active")
    valid_after = account.user.sessions_valid_after
    if valid_after is not None and claims.iat < math.floor(valid_after.timestamp()):
        raise AccessTokenInvalid("this session has ended; sign in again")
    if claims.sid and family_revoked(session, claims.sid):
        raise AccessTokenInvalid("this session has ended; sign in again")
    return account


def revocations(session: Session, window: timedelta) -> dict:
    """Sessions and users ended within ``window`` (the access-token lifetime plus leeway).

    Older ends need not be listed: every access token they could kill has expired.
    """
    now = utcnow()
    since = now - window
    families = session.execute(
        select(RefreshToken.family_id, func.max(RefreshToken.revoked_at))
        .where(RefreshToken.revoked_at > since)
        .group_by(RefreshToken.family_id)
    ).all()
    users = session.execute(
        select(User.id, User.sessions_valid_after).where(User.sessions_valid_after > since)
    ).all()
    return {
        "since": _epoch(since),
        "until": _epoch(now),
        "sessions": {family_id: _epoch(at) for family_id, at in families},
        "users": {user_id: math.floor(at.timestamp()) for user_id, at in users},
    }


def _epoch(at: datetime) -> int:
    return math.floor(at.timestamp())
