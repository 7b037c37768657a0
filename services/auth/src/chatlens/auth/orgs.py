"""Orgs and their members: creating orgs, listing members, changing roles, removing members.

Plain functions over a SQLAlchemy session; the caller commits. Every lookup is scoped to the
actor's org, so another org's user id is simply not found.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatlens.auth import sessions
from chatlens.auth.accounts import Account
from chatlens.auth.errors import Conflict, Forbidden, NotFound
from chatlens.auth.permissions import may_assign
from chatlens.auth.tables import Membership, Org, Role, User, new_id

log = logging.getLogger(__name__)


def create(session: Session, user_id: str, name: str) -> dict:
    """A new org whose owner is ``user_id``."""
    org = Org(id=new_id(), name=name)
    session.add(org)
    session.flush()
    session.add(Membership(user_id=user_id, org_id=org.id, role=Role.OWNER.value))
    session.flush()
    log.info("org created", extra={"org_id": org.id, "user_id": user_id})
    return {"id": org.id, "name": org.name, "role": Role.OWNER.value}


def of_user(session: Session, user_id: str) -> list[dict]:
    """The orgs ``user_id`` belongs to, oldest membership first, with their role in each."""
    rows = session.execute(
        select(Org.id, Org.name, Membership.role)
        .join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at, Org.id)
    ).all()
    return [{"id": org_id, "name": name, "role": role} for org_id, name, role in rows]


def members(session: Session, org_id: str) -> list[dict]:
    rows = session.execute(
        select(User.id, User.email, User.name, Membership.role, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(Membership.created_at, User.id)
    ).all()
    return [
        {"id": uid, "email": email, "name": name, "role": role, "joined_at": joined.isoformat()}
        for uid, email, name, role, joined in rows
    ]


def change_role(session: Session, actor: Account, user_id: str, role: str) -> dict:
    """Give ``user_id`` a new role in the actor's org; their sessions end at once."""
    membership = _membership(session, actor.org.id, user_id)
    if membership.role == role:
        return {"id": user_id, "role": role, "old_role": role}
    _check_may_change(session, actor, membership)
    if not may_assign(actor.role, role):
        raise Forbidden(f"your role ({actor.role}) cannot grant the role {role}")
    old_role, membership.role = membership.role, role
    session.flush()
    sessions.end_all(session, user_id, reason="role changed")
    log.info(
        "role changed",
        extra={"org_id": actor.org.id, "user_id": user_id, "old_role": old_role, "role": role},
    )
    return {"id": user_id, "role": role, "old_role": old_role}


def remove(session: Session, actor: Account, user_id: str) -> str:
    """Take ``user_id`` out of the actor's org; their sessions end at once. Their old role."""
    membership = _membership(session, actor.org.id, user_id)
    _check_may_change(session, actor, membership)
    session.delete(membership)
    session.flush()
    sessions.end_all(session, user_id, reason="removed from org")
    log.info("member removed", extra={"org_id": actor.org.id, "user_id": user_id})
    return membership.role


def _membership(session: Session, org_id: str, user_id: str) -> Membership:
    membership = session.get(Membership, {"user_id": user_id, "org_id": org_id})
    if membership is None:
        raise NotFound("no such member in this org")
    return membership


def owner_count(session: Session, org_id: str) -> int:
    """How many owners an org has (it must always keep one)."""
    return session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == Role.OWNER.value)
    )


def _check_may_change(session: Session, actor: Account, membership: Membership) -> None:
    if not may_assign(actor.role, membership.role):
        raise Forbidden(f"your role ({actor.role}) cannot change a member who is {membership.role}")
    if membership.role == Role.OWNER.value:
        if owner_count(session, membership.org_id) <= 1:
            raise Conflict("last_owner", "an org keeps at least one owner; make another first")
