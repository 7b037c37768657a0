"""Reading the bearer access token of a request."""

from __future__ import annotations

from flask import request

from chatlens.auth.errors import AccessTokenMissing
from chatlens.auth.tokens import AccessClaims, AccessTokens


def access_claims(tokens: AccessTokens) -> AccessClaims:
    """The verified claims of the request's ``Authorization: Bearer`` token, or raise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessTokenMissing("send an access token: Authorization: Bearer <token>")
    return tokens.verify(token.strip())
