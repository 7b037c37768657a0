"""Provider secrets over HTTP: org admins store, list (a hint only) and delete them; services
read one in clear through the internal route."""

from __future__ import annotations

import re

from flask import Blueprint, Response, g

from chatlens.auth import audit, broadcasts, provider_secrets, runtime
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import NotFound
from chatlens.auth.http_models import SECRET_NAME, SecretRequest, SecretRevealRequest
from chatlens.auth.permissions import SECRETS_MANAGE
from chatlens.shared.web import json_body

blueprint = Blueprint("secrets", __name__)
NAME = re.compile(SECRET_NAME)


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise NotFound("no such secret in this org")
    return name


@blueprint.get("/api/v1/auth/secrets")
@authenticated(SECRETS_MANAGE)
def listed():
    with runtime.current().sessions() as session:
        return {"secrets": provider_secrets.listed(session, g.account.org.id)}


@blueprint.put("/api/v1/auth/secrets/<name>")
@authenticated(SECRETS_MANAGE)
def put(name: str):
    body = json_body(SecretRequest)
    rt, account = runtime.current(), g.account
    with rt.sessions() as session:
        stored = provider_secrets.put(
            session,
            rt.secret_box,
            account.org.id,
            account.user.id,
            _name(name),
            body.provider,
            body.value,
        )
        audit.record(
            session,
            "secret.stored",
            org_id=account.org.id,
            actor_id=account.user.id,
            target=name,
            provider=body.provider,
        )
        broadcasts.note_secret(session, account.org.id, name)  # replicas drop the old key
        session.commit()
    return stored


@blueprint.delete("/api/v1/auth/secrets/<name>")
@authenticated(SECRETS_MANAGE)
def remove(name: str):
    with runtime.current().sessions() as session:
        provider_secrets.remove(session, g.account.org.id, _name(name))
        audit.record(
            session,
            "secret.deleted",
            org_id=g.account.org.id,
            actor_id=g.account.user.id,
            target=name,
        )
        broadcasts.note_secret(session, g.account.org.id, name)
        session.commit()
    return Response(status=204)


@blueprint.post("/internal/v1/secrets/reveal")
def reveal():
    """``{value}`` of an org's secret, for the service that calls the provider."""
    body = json_body(SecretRevealRequest)
    rt = runtime.current()
    with rt.sessions() as session:
        value = provider_secrets.reveal(session, rt.secret_box, body.org_id, body.name)
        audit.record(session, "secret.read", org_id=body.org_id, target=body.name)
        session.commit()
    return {"value": value}, 200, {"Cache-Control": "no-store"}
