"""The API-key API: create (shown once), list with last use, revoke; and verification for the
gateway at ``POST /internal/v1/api-keys/verify``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, g

from chatlens.auth import api_keys, audit, runtime
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import NotFound
from chatlens.auth.http_models import ID_MAX, ApiKeyRequest, ApiKeyVerifyRequest
from chatlens.auth.permissions import KEYS_MANAGE
from chatlens.shared.web import ApiError, json_body

blueprint = Blueprint("api_keys", __name__)


@blueprint.post("/api/v1/auth/api-keys")
@authenticated(KEYS_MANAGE)
def create():
    body = json_body(ApiKeyRequest)
    with runtime.current().sessions() as session:
        created = api_keys.create(
            session, g.account, body.name, list(body.scopes), timedelta(days=body.expires_in_days)
        )
        audit.record(
            session,
            "api_key.created",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=created["id"],
            scopes=created["scopes"],
        )
        session.commit()
    return created, 201, {"Cache-Control": "no-store"}


@blueprint.get("/api/v1/auth/api-keys")
@authenticated(KEYS_MANAGE)
def listed():
    with runtime.current().sessions() as session:
        return {"api_keys": api_keys.listed(session, g.account)}


@blueprint.delete("/api/v1/auth/api-keys/<key_id>")
@authenticated(KEYS_MANAGE)
def revoke(key_id: str):
    if len(key_id) > ID_MAX:
        raise NotFound("no such API key")
    with runtime.current().sessions() as session:
        row = api_keys.revoke(session, g.account, key_id)
        audit.record(
            session,
            "api_key.revoked",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=row.id,
        )
        session.commit()
    return Response(status=204)


@blueprint.post("/internal/v1/api-keys/verify")
def verify():
    """200 ``{key_id, user_id, org_id, scopes, expires_at}`` or 401 ``invalid_api_key``."""
    body = json_body(ApiKeyVerifyRequest)
    with runtime.current().sessions() as session:
        try:
            verified = api_keys.verify(session, body.key)
        except api_keys.InvalidApiKey as exc:
            raise ApiError(401, "invalid_api_key", str(exc)) from None
        session.commit()
    return verified, 200, {"Cache-Control": "no-store"}
