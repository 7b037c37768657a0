"""Access tokens: short-lived JWTs signed with the service's key, checked the same way anywhere."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import jwt

from chatlens.auth.errors import AccessTokenExpired, AccessTokenInvalid
from chatlens.auth.keys import SigningKey

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


class AccessTokens:
    """Issues and verifies access JWTs: iss, aud, sub, org, role, typ, iat, exp, jti (+ sid)."""

    def __init__(self, key: SigningKey, issuer: str, audience: str, ttl_s: int) -> None:
        self.key, self.issuer, self.audience, self.ttl_s = key, issuer, audience, ttl_s
        # Keyed by kid so a rotation can add the next key here before signing with it.
        self._verifying = {key.kid: key}

    def issue(self, user_id: str, org_id: str, role: str, session_id: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "org": org_id,
            "role": role,
            "typ": ACCESS,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if session_id:
            claims["sid"] = session_id  # the refresh family, so logout can end the session
        return jwt.encode(claims, self.key.private_key, self.key.alg, headers={"kid": self.key.kid})

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; :class:`AccessTokenInvalid` for anything else."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._verifying.get(kid) if isinstance(kid, str) else None
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
            sub=claims["sub"], org=claims["org"], role=claims["role"], jti=claims["jti"],
            sid=claims.get("sid"), exp=claims["exp"],
        )
