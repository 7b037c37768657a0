"""The auth HTTP API: register, login, refresh, logout, me, and the public keys (JWKS)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from chatlens.auth import accounts, runtime
from chatlens.auth.accounts import Account
from chatlens.auth.bearer import access_claims
from chatlens.auth.errors import AccessTokenInvalid, RefreshTokenInvalid
from chatlens.auth.keys import jwks
from chatlens.auth.schemas import LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest
from chatlens.shared.web import json_body

blueprint = Blueprint("auth", __name__)

JWKS_MAX_AGE_S = 300


@blueprint.post("/api/v1/auth/register")
def register():
    """Create a user and their personal org (201); 409 if the email is taken."""
    body = json_body(RegisterRequest)
    rt = runtime.current()
    with rt.sessions() as session:
        account = accounts.register(session, rt.passwords, body.email, body.password, body.name)
        session.commit()
    return account.as_dict(), 201


@blueprint.post("/api/v1/auth/login")
def login():
    """A token pair for a correct email and password; one 401 for every wrong one."""
    body = json_body(LoginRequest)
    rt = runtime.current()
    with rt.sessions() as session:
        account = accounts.authenticate(session, rt.passwords, body.email, body.password)
        return _token_pair(session, account, family_id=None)


@blueprint.post("/api/v1/auth/refresh")
def refresh():
    """Spend a refresh token for a new pair in the same family."""
    body = json_body(RefreshRequest)
    rt = runtime.current()
    with rt.sessions() as session:
        spent = rt.refresh_tokens.spend(session, body.refresh_token)
        # Role and org are read again: a refresh must not outlive a removed membership.
        account = accounts.account_in(session, spent.user_id, spent.org_id)
        if account is None:
            raise RefreshTokenInvalid("the account is no longer active in this org")
        return _token_pair(session, account, family_id=spent.family_id)


@blueprint.post("/api/v1/auth/logout")
def logout():
    """End the session of the access token, and the family of a given refresh token."""
    rt = runtime.current()
    claims = access_claims(rt.access_tokens)
    # The body is optional; MAX_CONTENT_LENGTH bounds what get_data may read.
    body = json_body(LogoutRequest) if request.get_data(cache=True) else None
    with rt.sessions() as session:
        if claims.sid:
            rt.refresh_tokens.revoke_family(session, claims.sid, claims.sub)
        if body is not None and body.refresh_token:
            rt.refresh_tokens.revoke_family_of(session, body.refresh_token, claims.sub)
        session.commit()
    return Response(status=204)


@blueprint.get("/api/v1/me")
def me():
    """The signed-in user, in the org of their access token."""
    rt = runtime.current()
    claims = access_claims(rt.access_tokens)
    with rt.sessions() as session:
        account = accounts.account_in(session, claims.sub, claims.org)
    if account is None:
        raise AccessTokenInvalid("the account behind this token is no longer active")
    return account.as_dict()


@blueprint.get("/.well-known/jwks.json")
@blueprint.get("/api/v1/auth/jwks.json", endpoint="jwks_api")
def public_keys():
    """The public signing keys as a JWK set."""
    response = jsonify(jwks([runtime.current().signing_key]))
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE_S
    return response


def _token_pair(session: Session, account: Account, family_id: str | None):
    """Issue and commit a refresh token, then sign the access token that goes with it."""
    rt = runtime.current()
    refresh_token, family_id = rt.refresh_tokens.issue(
        session, account.user.id, account.org.id, family_id
    )
    session.commit()
    access_token = rt.access_tokens.issue(account.user.id, account.org.id, account.role, family_id)
    body = {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": rt.settings.access_ttl_s,
    }
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    return body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
