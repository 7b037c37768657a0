"""Reading the bearer access token of a request, and the one decorator that checks permissions."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, request

from chatlens.auth import runtime, sessions
from chatlens.auth.errors import AccessTokenMissing, Forbidden
from chatlens.auth.permissions import ALL, permissions_for
from chatlens.auth.tokens import AccessClaims, AccessTokens
from chatlens.shared.error_reports import identify


def access_claims(tokens: AccessTokens) -> AccessClaims:
    """The verified claims of the request's ``Authorization: Bearer`` token, or raise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessTokenMissing("send an access token: Authorization: Bearer <token>")
    return tokens.verify(token.strip())


def authenticated(permission: str | None = None) -> Callable:
    """Require a live access token, and ``permission`` in the caller's current role.

    The role is read from the database, not from the token: a demotion applies at once here.
    Puts ``g.claims`` and ``g.account`` (the user in the token's org) for the view.
    """
    if permission is not None and permission not in ALL:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            rt = runtime.current()
            claims = access_claims(rt.access_tokens)
            with rt.sessions() as session:
                account = sessions.ensure_live(session, claims)
            if permission is not None and permission not in permissions_for(account.role):
                raise Forbidden(f"your role ({account.role}) does not allow {permission}")
            g.claims, g.account = claims, account
            identify(claims.sub)  # error reports name the caller by id, never by e-mail
            return view(*args, **kwargs)

        return wrapper

    return decorate
