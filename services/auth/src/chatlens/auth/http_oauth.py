"""OAuth login and linking: ``/api/v1/auth/oauth/{provider}/start`` and ``.../callback``,
``/api/v1/auth/oauth/providers``: which providers are configured, and the caller's linked
provider accounts (``/api/v1/auth/oauth/identities``, unlinked with the password)."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from chatlens.auth import audit, oauth, runtime, sessions
from chatlens.auth.bearer import access_claims, authenticated
from chatlens.auth.errors import InvalidCredentials, NotFound
from chatlens.auth.http_accounts import token_pair
from chatlens.auth.http_models import UnlinkRequest
from chatlens.shared.web import ApiError, json_body

blueprint = Blueprint("oauth", __name__)
CODE_MAX, STATE_MAX = 2048, 512


def _provider(name: str) -> oauth.Provider:
    provider = oauth.providers(runtime.current().settings).get(name)
    if provider is None:
        raise NotFound("no such sign-in provider")
    return provider


@blueprint.get("/api/v1/auth/oauth/providers")
def configured():
    """The providers a sign-in page may offer (those with a client id and secret), in order."""
    names = oauth.providers(runtime.current().settings)
    return {
        "providers": [
            {
                "name": name,
                "label": oauth.LABELS.get(name, name),
                "start_url": f"/api/v1/auth/oauth/{name}/start",
            }
            for name in names
        ]
    }


@blueprint.get("/api/v1/auth/oauth/<name>/start")
def start(name: str):
    """``{authorization_url}`` to send the browser to. With a bearer token: link to that user."""
    rt, provider = runtime.current(), _provider(name)
    link_user_id = None
    if request.headers.get("Authorization"):
        claims = access_claims(rt.access_tokens)
        with rt.sessions() as session:
            link_user_id = sessions.ensure_live(session, claims).user.id
    with rt.sessions() as session:
        url = oauth.start(session, provider, oauth.redirect_uri(rt.settings, name), link_user_id)
        session.commit()
    return {"authorization_url": url}, 200, {"Cache-Control": "no-store"}


@blueprint.get("/api/v1/auth/oauth/<name>/callback")
def callback(name: str):
    """The provider sends the browser back here: a token pair, or ``{linked}`` for a link."""
    rt, provider = runtime.current(), _provider(name)
    if request.args.get("error"):
        raise ApiError(400, "oauth_denied", "the sign-in was cancelled at the provider")
    code, state = request.args.get("code", ""), request.args.get("state", "")
    if not (0 < len(code) <= CODE_MAX and 0 < len(state) <= STATE_MAX):
        raise ApiError(400, "invalid_request", "code and state are required")
    with rt.sessions() as session:
        row = oauth.take_state(session, name, state)
        session.commit()  # spent even if what follows fails: a state works once
    subject, email = oauth.profile(
        provider, oauth.redirect_uri(rt.settings, name), code, row.code_verifier
    )
    with rt.sessions() as session:
        if row.link_user_id is not None:
            oauth.link(session, row.link_user_id, name, subject, email)
            audit.record(session, "oauth.linked", actor_id=row.link_user_id, target=name)
            session.commit()
            return {"linked": name}
        account = oauth.sign_in(session, rt.passwords, name, subject, email)
        audit.record(
            session, "login.succeeded", org_id=account.org.id, actor_id=account.user.id, via=name
        )
        return token_pair(session, account, family_id=None)


@blueprint.get("/api/v1/auth/oauth/identities")
@authenticated()
def linked():
    """The provider accounts linked to the caller (each signs in as the caller), oldest first."""
    with runtime.current().sessions() as session:
        rows = oauth.identities(session, g.account.user.id)
        return {
            "identities": [
                {
                    "provider": row.provider,
                    "label": oauth.LABELS.get(row.provider, row.provider),
                    "email": row.email,
                    "linked_at": row.created_at.isoformat(),
                }
                for row in rows
            ]
        }


@blueprint.post("/api/v1/auth/oauth/identities/<name>/unlink")
@authenticated()
def unlink(name: str):
    """Stop ``name``'s accounts signing in as the caller; the password confirms it, so a stolen
    session cannot quietly swap the ways in, and whoever unlinks can still sign in (an account
    made through a provider has a random password: reset it first)."""
    body = json_body(UnlinkRequest)
    rt = runtime.current()
    account, address = g.account, request.remote_addr or ""
    rt.throttle.before_login(account.user.email, address, known_address=True)
    with rt.sessions() as session:
        if not rt.passwords.verify(account.user.password_hash, body.password):
            rt.throttle.login_failed(account.user.email, address)
            raise InvalidCredentials()
        if not oauth.unlink(session, account.user.id, name):
            raise NotFound("no account of this provider is linked")
        audit.record(
            session, "oauth.unlinked", org_id=account.org.id, actor_id=account.user.id, target=name
        )
        session.commit()
    return Response(status=204)
