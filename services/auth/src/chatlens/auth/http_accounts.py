"""The auth HTTP API: register, login, refresh, logout, me, and the public keys (JWKS)."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.orm import Session

from chatlens.auth import accounts, audit, mfa, runtime, sessions
from chatlens.auth.accounts import Account
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import (
    InvalidCredentials,
    InvalidMfaCode,
    MfaRequired,
    RefreshTokenInvalid,
)
from chatlens.auth.http_models import (
    LoginRequest,
    LogoutRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
)
from chatlens.auth.keys import jwks
from chatlens.shared.web import json_body

blueprint = Blueprint("auth", __name__)

JWKS_MAX_AGE_S = 300


@blueprint.post("/api/v1/auth/register")
def register():
    """Create a user and their personal org (201); 409 if the email is taken."""
    body = json_body(RegisterRequest)
    rt = runtime.current()
    rt.password_policy.check(body.password, body.email, body.name)
    with rt.sessions() as session:
        account = accounts.register(session, rt.passwords, body.email, body.password, body.name)
        audit.record(session, "user.registered", org_id=account.org.id, actor_id=account.user.id)
        session.commit()
    return account.as_dict(), 201


@blueprint.post("/api/v1/auth/login")
def login():
    """A token pair for a correct email and password; one 401 for every wrong one."""
    body = json_body(LoginRequest)
    rt = runtime.current()
    email, address = accounts.normalise_email(body.email), request.remote_addr or ""
    with rt.sessions() as session:
        rt.throttle.before_login(email, address, accounts.known_address(session, email, address))
        try:
            account = accounts.authenticate(session, rt.passwords, email, body.password)
        except InvalidCredentials:
            rt.throttle.login_failed(email, address)
            audit.record(session, "login.failed", target=email)
            session.commit()
            raise
        second_factor(session, account.user.id, body.totp)
        rt.throttle.login_succeeded(email, address)
        audit.record(session, "login.succeeded", org_id=account.org.id, actor_id=account.user.id)
        return token_pair(session, account, family_id=None)


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
        return token_pair(session, account, family_id=spent.family_id)


@blueprint.post("/api/v1/auth/logout")
@authenticated()
def logout():
    """End the session of the access token, and the family of a given refresh token."""
    rt = runtime.current()
    claims = g.claims
    # The body is optional; MAX_CONTENT_LENGTH bounds what get_data may read.
    body = json_body(LogoutRequest) if request.get_data(cache=True) else None
    with rt.sessions() as session:
        if claims.sid:
            rt.refresh_tokens.revoke_family(session, claims.sid, claims.sub)
        if body is not None and body.refresh_token:
            rt.refresh_tokens.revoke_family_of(session, body.refresh_token, claims.sub)
        audit.record(session, "logout", org_id=claims.org, actor_id=claims.sub, target=claims.sid)
        session.commit()
    return Response(status=204)


@blueprint.post("/api/v1/auth/password")
@authenticated()
def change_password():
    """A new password; every session ends, and a new pair for this device comes back."""
    body = json_body(PasswordChangeRequest)
    rt = runtime.current()
    account = g.account
    rt.password_policy.check(body.new_password, account.user.email, account.user.name)
    address = request.remote_addr or ""
    rt.throttle.before_login(account.user.email, address, known_address=True)
    with rt.sessions() as session:
        try:
            accounts.change_password(
                session, rt.passwords, account.user, body.current_password, body.new_password
            )
        except InvalidCredentials:
            rt.throttle.login_failed(account.user.email, address)
            audit.record(
                session, "password.change_failed", org_id=account.org.id, actor_id=account.user.id
            )
            session.commit()
            raise
        sessions.end_all(session, account.user.id, reason="password changed")
        audit.record(session, "password.changed", org_id=account.org.id, actor_id=account.user.id)
        return token_pair(session, account, family_id=None)


@blueprint.post("/api/v1/auth/logout-all")
@authenticated()
def logout_everywhere():
    """End every session of the caller, on every device, at once."""
    with runtime.current().sessions() as session:
        sessions.end_all(session, g.account.user.id, reason="signed out everywhere")
        audit.record(session, "sessions.ended", org_id=g.account.org.id, actor_id=g.account.user.id)
        session.commit()
    return Response(status=204)


@blueprint.get("/api/v1/me")
@authenticated()
def me():
    """The signed-in user, in the org of their access token."""
    admins = runtime.current().settings.platform_admin_emails
    return {
        **g.account.as_dict(),
        "platform_admin": accounts.is_platform_admin(g.account.user, admins),
    }


@blueprint.get("/.well-known/jwks.json")
@blueprint.get("/api/v1/auth/jwks.json", endpoint="jwks_api")
def public_keys():
    """The public signing keys as a JWK set."""
    response = jsonify(jwks(runtime.current().keyring.published()))
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE_S
    return response


def second_factor(session: Session, user_id: str, code: str | None, required: bool = False) -> None:
    """Check the TOTP (or recovery) code when the user has MFA on (or ``required``); throttled."""
    if not (required or mfa.enabled(session, user_id)):
        return
    if code is None:
        raise MfaRequired("this account needs a TOTP code: send it as totp")
    rt = runtime.current()
    rt.throttle.before_code(user_id)
    if not mfa.verify(session, rt.secret_box, user_id, code):
        rt.throttle.code_failed(user_id)
        audit.record(session, "mfa.code_failed", actor_id=user_id)
        session.commit()
        raise InvalidMfaCode("the code is wrong or was already used")


def token_pair(session: Session, account: Account, family_id: str | None):
    """Issue and commit a refresh token, then sign the access token that goes with it."""
    rt = runtime.current()
    refresh_token, family_id = rt.refresh_tokens.issue(
        session,
        account.user.id,
        account.org.id,
        family_id,
        address=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )
    session.commit()
    platform_admin = accounts.is_platform_admin(account.user, rt.settings.platform_admin_emails)
    access_token = rt.access_tokens.issue(
        account.user.id, account.org.id, account.role, family_id, platform_admin=platform_admin
    )
    body = {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": rt.settings.access_ttl_s,
    }
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    return body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
