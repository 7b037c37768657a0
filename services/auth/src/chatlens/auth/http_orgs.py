"""The org API: my orgs, switching org, members and their roles, invitations.

Member and invitation routes act on the org of the caller's access token (the active org), so
no route takes an org id that could name someone else's org; a foreign user or invitation id is
a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, g

from chatlens.auth import accounts, audit, invitations, orgs, runtime
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import NotFound
from chatlens.auth.http_accounts import token_pair
from chatlens.auth.http_models import (
    ID_MAX,
    AcceptInvitationRequest,
    CreateOrgRequest,
    InvitationRequest,
    RoleRequest,
    SwitchOrgRequest,
)
from chatlens.auth.permissions import MEMBERS_MANAGE, MEMBERS_READ
from chatlens.shared.web import json_body

blueprint = Blueprint("orgs", __name__)


@blueprint.get("/api/v1/auth/orgs")
@authenticated()
def my_orgs():
    """The orgs the caller belongs to, with their role in each; ``active`` is the token's."""
    with runtime.current().sessions() as session:
        return {"orgs": orgs.of_user(session, g.account.user.id), "active": g.account.org.id}


@blueprint.post("/api/v1/auth/orgs")
@authenticated()
def create_org():
    """A new org, owned by the caller (201). Switch to it to act in it."""
    body = json_body(CreateOrgRequest)
    with runtime.current().sessions() as session:
        created = orgs.create(session, g.account.user.id, body.name)
        audit.record(session, "org.created", org_id=created["id"], actor_id=g.account.user.id)
        session.commit()
    return created, 201


@blueprint.post("/api/v1/auth/switch")
def switch_org():
    """Spend a refresh token for a pair in another org of the same user (same session)."""
    body = json_body(SwitchOrgRequest)
    rt = runtime.current()
    with rt.sessions() as session:
        spent = rt.refresh_tokens.spend(session, body.refresh_token)
        account = accounts.account_in(session, spent.user_id, body.org_id)
        if account is None:
            # Not committed: the refresh token stays unspent.
            raise NotFound("no such org among yours")
        return token_pair(session, account, family_id=spent.family_id)


@blueprint.get("/api/v1/auth/members")
@authenticated(MEMBERS_READ)
def list_members():
    with runtime.current().sessions() as session:
        return {"members": orgs.members(session, g.account.org.id)}


@blueprint.patch("/api/v1/auth/members/<user_id>")
@authenticated(MEMBERS_MANAGE)
def change_role(user_id: str):
    """A member's new role; their sessions end at once, so new tokens carry it."""
    body = json_body(RoleRequest)
    _check_id(user_id)
    with runtime.current().sessions() as session:
        changed = orgs.change_role(session, g.account, user_id, body.role)
        audit.record(
            session,
            "role.changed",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=user_id,
            old_role=changed["old_role"],
            role=changed["role"],
        )
        session.commit()
    return changed


@blueprint.delete("/api/v1/auth/members/<user_id>")
@authenticated(MEMBERS_MANAGE)
def remove_member(user_id: str):
    _check_id(user_id)
    with runtime.current().sessions() as session:
        old_role = orgs.remove(session, g.account, user_id)
        audit.record(
            session,
            "member.removed",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=user_id,
            role=old_role,
        )
        session.commit()
    return Response(status=204)


@blueprint.post("/api/v1/auth/invitations")
@authenticated(MEMBERS_MANAGE)
def invite():
    """Invite an email with a role (201); the answer carries the token, once."""
    body = json_body(InvitationRequest)
    with runtime.current().sessions() as session:
        created = invitations.create(session, g.account, body.email, body.role)
        audit.record(
            session,
            "invitation.created",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=created["email"],
            role=body.role,
        )
        session.commit()
    return created, 201, {"Cache-Control": "no-store"}


@blueprint.get("/api/v1/auth/invitations")
@authenticated(MEMBERS_MANAGE)
def list_invitations():
    with runtime.current().sessions() as session:
        return {"invitations": invitations.pending(session, g.account.org.id)}


@blueprint.delete("/api/v1/auth/invitations/<invitation_id>")
@authenticated(MEMBERS_MANAGE)
def revoke_invitation(invitation_id: str):
    _check_id(invitation_id)
    with runtime.current().sessions() as session:
        invitations.revoke(session, g.account.org.id, invitation_id)
        audit.record(
            session,
            "invitation.revoked",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=invitation_id,
        )
        session.commit()
    return Response(status=204)


@blueprint.post("/api/v1/auth/invitations/accept")
@authenticated()
def accept_invitation():
    """Join the invitation's org as the signed-in user, whose email must be the invited one."""
    body = json_body(AcceptInvitationRequest)
    with runtime.current().sessions() as session:
        row = invitations.accept(session, g.account.user, body.token)
        audit.record(
            session,
            "invitation.accepted",
            org_id=row.org_id,
            actor_id=g.account.user.id,
            target=row.id,
            role=row.role,
        )
        session.commit()
        joined = [o for o in orgs.of_user(session, g.account.user.id) if o["id"] == row.org_id]
    return {"org": joined[0]}


def _check_id(value: str) -> None:
    if len(value) > ID_MAX:
        raise NotFound("no such id")
