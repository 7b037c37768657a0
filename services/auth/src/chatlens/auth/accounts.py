"""Users, their orgs and roles: registering, checking a password, finding an account.

Plain functions over a SQLAlchemy session; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatlens.auth.errors import EmailTaken, InvalidCredentials
from chatlens.auth.passwords import Passwords
from chatlens.auth.tables import Membership, Org, Role, User, new_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """A user acting in one org, with their role there."""

    user: User
    org: Org
    role: str

    def as_dict(self) -> dict:
        return {
            "id": self.user.id,
            "email": self.user.email,
            "name": self.user.name,
            "org": {"id": self.org.id, "name": self.org.name, "role": self.role},
        }


def is_platform_admin(user: User, admin_emails: frozenset[str]) -> bool:
    """Flagged by the admin CLI, or listed in PLATFORM_ADMIN_EMAILS (the list needs no CLI)."""
    return bool(user.platform_admin) or user.email in admin_emails


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register(
    session: Session, passwords: Passwords, email: str, password: str, name: str | None
) -> Account:
    """Create a user and their personal org, where they are the owner."""
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken("this email is already registered")
    user = User(
        id=new_id(), email=email, name=name, password_hash=passwords.hash(password), disabled=False
    )
    org = Org(id=new_id(), name=f"{name or email}'s org"[:200])
    session.add_all([user, org])
    try:
        # The unique index decides a race between two registrations of the same email.
        session.flush()
    except IntegrityError:
        session.rollback()
        raise EmailTaken("this email is already registered") from None
    session.add(Membership(user_id=user.id, org_id=org.id, role=Role.OWNER.value))
    session.flush()
    log.info("user registered", extra={"user_id": user.id, "org_id": org.id})
    return Account(user, org, Role.OWNER.value)


def known_address(session: Session, email: str, address: str) -> bool:
    """True when the account of ``email`` has signed in from ``address`` before."""
    from chatlens.auth.tables import RefreshToken

    query = (
        select(RefreshToken.id)
        .join(User, User.id == RefreshToken.user_id)
        .where(User.email == normalise_email(email), RefreshToken.address == address)
        .limit(1)
    )
    return bool(address) and session.scalar(query) is not None


def change_password(
    session: Session, passwords: Passwords, user: User, current: str, new: str
) -> None:
    """Set a new password after checking the current one; the caller ends the sessions."""
    if not passwords.verify(user.password_hash, current):
        raise InvalidCredentials()
    session.get(User, user.id).password_hash = passwords.hash(new)
    log.info("password changed", extra={"user_id": user.id})


def authenticate(session: Session, passwords: Passwords, email: str, password: str) -> Account:
    """The account behind an email and password, in its first org; or :class:`InvalidCredentials`.

    Unknown email, wrong password and disabled user look the same from outside, and take as long.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if not passwords.verify(user.password_hash if user else None, password) or user.disabled:
        raise InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
        log.info("password re-hashed with the current parameters", extra={"user_id": user.id})
    account = account_in(session, user.id, org_id=None)
    if account is None:
        log.error("a user without any org tried to sign in", extra={"user_id": user.id})
        raise InvalidCredentials()
    return account


def account_in(session: Session, user_id: str, org_id: str | None) -> Account | None:
    """The enabled user acting in ``org_id`` (their oldest membership if None), or None."""
    query = (
        select(User, Org, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(Org, Org.id == Membership.org_id)
        .where(User.id == user_id, User.disabled.is_(False))
        .order_by(Membership.created_at, Org.id)
        .limit(1)
    )
    if org_id is not None:
        query = query.where(Org.id == org_id)
    row = session.execute(query).first()
    return Account(*row) if row else None


def set_disabled(session: Session, user_id: str, disabled: bool) -> bool:
    """Disable (ending every session at once) or enable a user; False if there is no such user."""
    from chatlens.auth import sessions  # sessions builds on this module

    user = session.get(User, user_id)
    if user is None:
        return False
    user.disabled = disabled
    if disabled:
        sessions.end_all(session, user_id, reason="account disabled")
    log.info("account %s", "disabled" if disabled else "enabled", extra={"user_id": user_id})
    return True
