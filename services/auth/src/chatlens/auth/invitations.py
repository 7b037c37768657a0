"""Invitations to an org by email: a single-use token the inviter hands over (no mail server).

The token is shown once in the answer to the inviter and written to the log; only its SHA-256
is stored. Accepting needs the token *and* a signed-in user with the invited email: the token
proves the invitee read that mailbox, the sign-in proves who they are.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.auth.accounts import Account, normalise_email
from chatlens.auth.errors import Conflict, Forbidden, NotFound
from chatlens.auth.permissions import may_assign
from chatlens.auth.refresh import token_hash
from chatlens.auth.tables import Invitation, Membership, User, new_id, utcnow

log = logging.getLogger(__name__)

TTL = timedelta(days=7)


def create(session: Session, actor: Account, email: str, role: str) -> dict:
    """A pending invitation of ``email`` to the actor's org, with its token (shown once)."""
    if not may_assign(actor.role, role):
        raise Forbidden(f"your role ({actor.role}) cannot invite a member as {role}")
    email = normalise_email(email)
    already = session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == actor.org.id, User.email == email)
    )
    if already is not None:
        raise Conflict("already_member", "this person is already a member of the org")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        id=new_id(),
        org_id=actor.org.id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=actor.user.id,
        created_at=now,
        expires_at=now + TTL,
    )
    session.add(invitation)
    session.flush()
    # No mail server is assumed: the log (and the inviter) carry the token to the invitee.
    log.info(
        "invitation created; hand this token to the invitee",
        extra={
            "org_id": actor.org.id,
            "invitation_id": invitation.id,
            "email": email,
            "invitation_token": token,
        },
    )
    return {**view(invitation), "token": token}


def pending(session: Session, org_id: str) -> list[dict]:
    now = utcnow()
    rows = session.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at)
    )
    return [view(row) for row in rows]


def revoke(session: Session, org_id: str, invitation_id: str) -> None:
    row = session.get(Invitation, invitation_id)
    if row is None or row.org_id != org_id or row.accepted_at or row.revoked_at:
        raise NotFound("no such pending invitation in this org")
    row.revoked_at = utcnow()


def accept(session: Session, user: User, token: str) -> Invitation:
    """Make ``user`` a member of the invitation's org. One 404 for every kind of wrong token."""
    row = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if (
        row is None
        or row.accepted_at
        or row.revoked_at
        or row.expires_at <= utcnow()
        or row.email != user.email
    ):
        raise NotFound("no such invitation for this account")
    row.accepted_at = utcnow()
    if session.get(Membership, {"user_id": user.id, "org_id": row.org_id}) is None:
        session.add(Membership(user_id=user.id, org_id=row.org_id, role=row.role))
    session.flush()
    log.info("invitation accepted", extra={"org_id": row.org_id, "user_id": user.id})
    return row


def view(row: Invitation) -> dict:
    return {
        "id": row.id,
        "email": row.email,
        "role": row.role,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }
