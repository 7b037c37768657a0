"""Password reset: a single-use, short-lived token per request, stored as its SHA-256 only.

The token reaches the user by e-mail (``mailer``, when SMTP is configured) or as a link an
administrator hands over (``admin reset-link``). A newer token voids the older ones; spending one
voids the rest. Spending is one conditional UPDATE, so two requests racing with the same token
cannot both set a password.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatlens.auth import accounts
from chatlens.auth.errors import AuthError
from chatlens.auth.passwords import Passwords
from chatlens.auth.refresh import token_hash
from chatlens.auth.tables import PasswordReset, User, utcnow

log = logging.getLogger(__name__)
PREFIX = "pr_"


class ResetTokenInvalid(AuthError):
    """Unknown, used, superseded or expired: one answer for all of them."""

    def __init__(self) -> None:
        super().__init__("this reset link is invalid, used or expired: ask for a new one")


def user_for(session: Session, email: str) -> User | None:
    """The active user with this e-mail, if any (the caller must not say which)."""
    user = session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    return None if user is None or user.disabled else user


def issue(session: Session, user_id: str, ttl: timedelta) -> str:
    """A new token for ``user_id`` (the caller commits); the user's older tokens stop working."""
    now = utcnow()
    _void_pending(session, user_id, now)
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=now + ttl
        )
    )
    return token


def link(public_url: str, token: str) -> str:
    """The web app's page for ``token``; in the fragment, so no server log or Referer holds it."""
    return f"{public_url.rstrip('/')}/reset-password#token={token}"


def pending(session: Session, token: str) -> User:
    """The user a live token belongs to, or :class:`ResetTokenInvalid`."""
    row = session.get(PasswordReset, token_hash(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ResetTokenInvalid()
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise ResetTokenInvalid()
    return user


def spend(session: Session, passwords: Passwords, token: str, user: User, new: str) -> None:
    """Set the new password and spend the token (once), voiding the user's other tokens."""
    now = utcnow()
    spent = session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == token_hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise ResetTokenInvalid()
    _void_pending(session, user.id, now)
    user.password_hash = passwords.hash(new)
    log.info("password reset", extra={"user_id": user.id})


def _void_pending(session: Session, user_id: str, now: datetime) -> None:
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
