"""The caller's sessions: list (device, address, last seen) and revoke one."""

from __future__ import annotations

from flask import Blueprint, Response, g

from chatlens.auth import audit, runtime, session_list
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import NotFound
from chatlens.auth.http_models import ID_MAX

blueprint = Blueprint("sessions", __name__)


@blueprint.get("/api/v1/auth/sessions")
@authenticated()
def listed():
    with runtime.current().sessions() as session:
        return {"sessions": session_list.live(session, g.account.user.id, g.claims.sid)}


@blueprint.delete("/api/v1/auth/sessions/<session_id>")
@authenticated()
def revoke(session_id: str):
    """End one of the caller's sessions now (its refresh and access tokens die)."""
    rt = runtime.current()
    if len(session_id) > ID_MAX:
        raise NotFound("no such session")
    with rt.sessions() as session:
        if not rt.refresh_tokens.revoke_family(session, session_id, g.account.user.id):
            raise NotFound("no such session")
        audit.record(
            session,
            "session.revoked",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=session_id,
        )
        session.commit()
    return Response(status=204)
