"""The audit log over HTTP: org admins read their org's events; services append theirs."""

from __future__ import annotations

from flask import Blueprint, g, request
from pydantic import ValidationError

from chatlens.auth import audit, runtime
from chatlens.auth.bearer import authenticated
from chatlens.auth.http_models import AuditAppendRequest, AuditQuery
from chatlens.auth.permissions import AUDIT_READ
from chatlens.shared.web import ApiError, json_body

blueprint = Blueprint("audit", __name__)


@blueprint.get("/api/v1/auth/audit")
@authenticated(AUDIT_READ)
def read():
    """``{events: [...], next_before}``, newest first; ``?limit=&before=&event=``."""
    try:
        query = AuditQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", exc.errors()[0]["msg"]) from None
    with runtime.current().sessions() as session:
        events = audit.events(session, g.account.org.id, query.limit, query.before, query.event)
    next_before = events[-1]["id"] if len(events) == query.limit else None
    return {"events": events, "next_before": next_before}


@blueprint.post("/internal/v1/audit")
def append():
    """Another service's event (201). There is no route that changes or deletes one."""
    body = json_body(AuditAppendRequest)
    with runtime.current().sessions() as session:
        audit.record(
            session,
            body.event,
            org_id=body.org_id,
            actor_id=body.actor_id,
            target=body.target,
            details=body.details,
        )
        session.commit()
    return {"recorded": body.event}, 201
