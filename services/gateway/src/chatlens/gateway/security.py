"""Who is calling, and may they: auth's access tokens and API keys, and the one decorator.

Access tokens are verified here, locally, with auth's published JWKS (cached, and fetched again
when a token names an unknown ``kid``, which is how key rotation reaches us): signature, expiry,
issuer, audience, ``typ`` and the claims we rely on. What a token cannot say (its session was
ended early) comes from auth's signed revocation feed and its broadcasts
(:mod:`chatlens.gateway.revocations`).
API keys (``clk_…``) are opaque and checked by auth (:mod:`chatlens.gateway.api_keys`).

Every endpoint is guarded by ``@requires(permission)``; a permission is a name from auth's table
(``collections:read``…), and the caller's set comes from the token's ``perms`` or the key's scopes.
What every org shares (the models) is guarded by ``@platform_admin_required``: a platform role,
carried by auth's access token as ``platform_admin: true``, never by an org role or an API key.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from flask import current_app, g, request

from chatlens.gateway.api_keys import PREFIX as API_KEY_PREFIX
from chatlens.shared.error_reports import identify
from chatlens.shared.web import ApiError

if TYPE_CHECKING:  # the feed is given by the composition root
    from chatlens.gateway.revocations import RevocationFeed

COLLECTIONS_READ = "collections:read"
COLLECTIONS_WRITE = "collections:write"
UPLOADS_CREATE = "uploads:create"
SEARCH_READ = "search:read"
ANSWERS_CREATE = "answers:create"
COLLECTIONS_PURGE = "collections:purge"
WEBHOOKS_MANAGE = "webhooks:manage"

log = logging.getLogger(__name__)
# A Flask view: whatever it returns, Flask turns into a response.
View = Callable[..., Any]

ACCESS_CLAIMS = ["exp", "iat", "sub", "iss", "aud", "typ", "org", "role", "perms", "sid"]
DOCUMENT_CLAIMS = ["exp", "iat", "iss", "aud", "typ"]
# Auth signs with RSA (RS256) or Ed25519 (EdDSA); the algorithm is taken from our JWKS entry,
# never from the token's header, and must be one of these.
ALGORITHMS = ("RS256", "ES256", "EdDSA")


@dataclass(frozen=True)
class Principal:
    user_id: str
    org_id: str
    role: str
    perms: frozenset[str] = frozenset()
    # The session (access tokens only; None for an API key) and when the token was issued.
    sid: str | None = None
    iat: int | None = None
    # A platform administrator (auth's CLI or PLATFORM_ADMIN_EMAILS); never true for an API key.
    platform_admin: bool = False
    # The API key's id when the caller is an API key (rate limits count keys apart from users).
    key_id: str | None = None


class TokenVerifier:
    """Verifies auth's JWTs with its JWKS, and access tokens against the revocation feed."""

    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        self.issuer, self.audience = issuer, audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        # Set by the composition root (the feed verifies its own token with this verifier).
        self.revocations: RevocationFeed | None = None

    def decode(self, token: str, typ: str, required: list[str]) -> dict[str, Any]:
        """The claims of a valid ``typ`` token signed by auth; 401 (or 503) otherwise."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ApiError(503, "auth_unavailable", "cannot fetch the auth service's keys") from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise _rejected(exc) from None
        if key.algorithm_name not in ALGORITHMS:
            raise _refused("invalid_token", "token rejected: unexpected key algorithm")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise _refused("token_expired", "the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise _rejected(exc) from None
        if claims.get("typ") != typ:
            raise _refused("invalid_token", f"not an {typ} token")
        checked: dict[str, Any] = claims
        return checked

    def decode_revocations(self, token: str) -> dict[str, Any]:
        return self.decode(token, "revocations", DOCUMENT_CLAIMS)

    def verify(self, token: str) -> Principal:
        """The caller of a valid, unrevoked access token."""
        claims = self.decode(token, "access", ACCESS_CLAIMS)
        perms, sid, iat = claims["perms"], claims["sid"], claims["iat"]
        if (
            not isinstance(perms, list)
            or not all(isinstance(p, str) for p in perms)
            or not isinstance(sid, str)
            or not sid
            or not isinstance(iat, int)
            or not claims["org"]
            or not isinstance(claims["role"], str)
        ):
            raise _refused("invalid_token", "the access token's claims are malformed")
        principal = Principal(
            user_id=str(claims["sub"]),
            org_id=str(claims["org"]),
            role=claims["role"],
            perms=frozenset(perms),
            sid=sid,
            iat=iat,
            platform_admin=claims.get("platform_admin") is True,
        )
        if self.revocations is None:
            # Never run without the feed: a logged-out session would live until its exp.
            raise ApiError(503, "auth_unavailable", "the revocation feed is not configured")
        if self.revocations.ended(principal.user_id, sid, iat):
            raise _refused("invalid_token", "the session of this token has ended")
        return principal


def _rejected(exc: Exception) -> ApiError:
    """One answer for every malformed or forged token; PyJWT's own reason goes to the log only
    (it describes our verification to whoever is probing it)."""
    log.info("token rejected", extra={"reason": str(exc)[:200]})
    return _refused("invalid_token", "the token is invalid")


def _refused(code: str, message: str) -> ApiError:
    """A 401 for the token itself, with WWW-Authenticate (RFC 6750): what tells a client that a
    refreshed token may succeed, unlike a 401 for a wrong password on a confirming route."""
    return ApiError(
        401, code, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthorized",
            "send an access token or API key as 'Authorization: Bearer …'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def authenticate() -> Principal:
    """The caller of this request (an access token or an API key), also put in ``g.principal``."""
    credential = bearer_token()
    principal: Principal
    if credential.startswith(API_KEY_PREFIX):
        principal = current_app.extensions["chatlens.api_keys"].verify(credential)
    else:
        principal = current_app.extensions["chatlens.verifier"].verify(credential)
    g.principal = principal
    identify(principal.user_id)  # error reports name the caller by id, never by e-mail
    g.server_timing = principal.platform_admin  # web.init_server_timing: admins see timings
    limits = current_app.extensions.get("chatlens.ratelimits")
    if limits is not None:
        limits.check_caller(principal)  # 429 before any work; see chatlens.gateway.ratelimits
    return principal


def requires(permission: str) -> Callable[[View], View]:
    """Authenticate the caller, then answer 403 ``forbidden`` unless they hold ``permission``.

    Usage: ``@requires("search:read")`` below the route (and spectree) decorators; the view
    finds the caller in ``g.principal``.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if permission not in authenticate().perms:
                raise ApiError(403, "forbidden", f"this needs the '{permission}' permission")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def platform_admin_required(view: View) -> View:
    """Authenticate the caller, then answer 403 ``forbidden`` unless they are a platform admin."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not authenticate().platform_admin:
            raise ApiError(403, "forbidden", "this needs a platform administrator")
        return view(*args, **kwargs)

    return wrapper


def login_required(view: View) -> View:
    """Authenticate the caller (any permission) and put them in ``g.principal``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        authenticate()
        return view(*args, **kwargs)

    return wrapper
