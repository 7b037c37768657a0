"""Local verification of auth's access tokens with its published JWKS.

The gateway never calls auth to check a token: it fetches auth's public keys once (cached, and
fetched again when a token names an unknown ``kid``, which is how key rotation reaches it) and
verifies signature, expiry, issuer, audience and token type itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jwt
from flask import current_app, g, request

from chatlens.shared.web import ApiError


@dataclass(frozen=True)
class Principal:
    user_id: str
    org_id: str
    role: str


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        self.issuer, self.audience = issuer, audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def verify(self, token: str) -> Principal:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ApiError(503, "auth_unavailable", "cannot fetch the auth service's keys") from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise ApiError(401, "invalid_token", f"token rejected: {exc}") from None
        try:
            claims = jwt.decode(
                token, key.key, algorithms=["RS256", "ES256", "EdDSA"],
                issuer=self.issuer, audience=self.audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "the access token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise ApiError(401, "invalid_token", f"token rejected: {exc}") from None
        if claims.get("typ") != "access" or not claims.get("org"):
            raise ApiError(401, "invalid_token", "not an access token")
        return Principal(user_id=str(claims["sub"]), org_id=str(claims["org"]),
                         role=str(claims.get("role", "viewer")))


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send an access token as 'Authorization: Bearer …'",
                       headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def login_required(view):
    """Verify the bearer token and put the caller in ``g.principal``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        verifier: TokenVerifier = current_app.extensions["chatlens.verifier"]
        g.principal = verifier.verify(bearer_token())
        return view(*args, **kwargs)

    return wrapper
