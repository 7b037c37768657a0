"""Access tokens: short-lived JWTs signed with the service's key, checked the same way anywhere."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import jwt

from chatlens.auth.errors import AccessTokenExpired, AccessTokenInvalid
from chatlens.auth.keys import Keyring
from chatlens.auth.permissions import permissions_for

log = logging.getLogger(__name__)

ACCESS = "access"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "org", "role", "typ", "iat", "exp", "jti"]


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    org: str
    role: str
    jti: str
    sid: str | None
    exp: int
    iat: int
    perms: frozenset[str]


class AccessTokens:
    """Issues and verifies access JWTs: iss, aud, sub, org, role, perms, typ, iat, exp, jti, sid,
    and ``platform_admin: true`` for a platform administrator (absent otherwise).

    ``perms`` is the role's permissions (:mod:`chatlens.auth.permissions`) at issue time; a verifier
    trusts it for the token's short life, and a role change ends the user's sessions at once.
    """

    def __init__(self, keyring: Keyring, issuer: str, audience: str, ttl_s: int) -> None:
        self.keyring, self.issuer, self.audience, self.ttl_s = keyring, issuer, audience, ttl_s

    def issue(
        self,
        user_id: str,
        org_id: str,
        role: str,
        session_id: str | None = None,
        platform_admin: bool = False,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "org": org_id,
            "role": role,
            "perms": sorted(permissions_for(role)),
            "typ": ACCESS,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if session_id:
            claims["sid"] = session_id  # the refresh family, so logout can end the session
        if platform_admin:
            claims["platform_admin"] = True  # model administration, whatever the org
        key = self.keyring.active()
        return jwt.encode(claims, key.private_key, key.alg, headers={"kid": key.kid})

    def sign_document(self, typ: str, payload: dict, ttl_s: int) -> str:
        """A short-lived signed JWT of another type (``typ``), e.g. the revocation feed."""
        now = int(time.time())
        claims = {
            **payload,
            "iss": self.issuer,
            "aud": self.audience,
            "typ": typ,
            "iat": now,
            "exp": now + ttl_s,
        }
        key = self.keyring.active()
        return jwt.encode(claims, key.private_key, key.alg, headers={"kid": key.kid})

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; :class:`AccessTokenInvalid` for anything else."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keyring.find(kid) if isinstance(kid, str) else None
            if key is None:
                raise AccessTokenInvalid("the access token is invalid")
            # The algorithm comes from our key, never from the token's header (no "none", no HS*).
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise AccessTokenExpired("the access token has expired") from None
        except jwt.PyJWTError as exc:
            log.info("access token refused", extra={"reason": str(exc)})
            raise AccessTokenInvalid("the access token is invalid") from None
        if claims["typ"] != ACCESS:
            raise AccessTokenInvalid("the access token is invalid")
        return AccessClaims(
            sub=claims["sub"],
            org=claims["org"],
            role=claims["role"],
            jti=claims["jti"],
            sid=claims.get("sid"),
            exp=claims["exp"],
            iat=claims["iat"],
            perms=frozenset(p for p in claims.get("perms", ()) if isinstance(p, str)),
        )
