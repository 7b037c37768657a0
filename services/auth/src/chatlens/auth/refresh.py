"""Refresh tokens: opaque, single-use, rotated within a family; re-use revokes the family.

A family is one login session. Each refresh spends the presented token and issues the next one in
the same family. A spent token coming back means it was copied: whoever holds the newest one may
be the thief, so every token of the family is revoked (OAuth 2.0 Security BCP, section 4.14).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatlens.auth import audit, broadcasts
from chatlens.auth.errors import RefreshTokenExpired, RefreshTokenInvalid, RefreshTokenReused
from chatlens.auth.tables import RefreshToken, new_id, utcnow

log = logging.getLogger(__name__)

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """What the database stores instead of the token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Spent:
    """The token just spent by a refresh: whose it was, and its family."""

    user_id: str
    org_id: str
    family_id: str


class RefreshTokens:
    def __init__(self, ttl_s: int) -> None:
        self.ttl = timedelta(seconds=ttl_s)

    def issue(
        self,
        session: Session,
        user_id: str,
        org_id: str,
        family_id: str | None = None,
        address: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[str, str]:
        """A new token (and its family id); a new family unless ``family_id`` is given."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = utcnow()
        row = RefreshToken(
            id=new_id(),
            family_id=family_id or new_id(),
            user_id=user_id,
            org_id=org_id,
            token_hash=token_hash(token),
            issued_at=now,
            expires_at=now + self.ttl,
            address=(address or "")[:64] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
        session.add(row)
        return token, row.family_id

    def spend(self, session: Session, token: str) -> Spent:
        """Mark ``token`` spent, or raise. On re-use the family's revocation is committed first."""
        row = self._find(session, token)
        if row is None:
            raise RefreshTokenInvalid("the refresh token is invalid")
        now = utcnow()
        if row.spent_at is not None:
            self._reused(session, row)
        if row.revoked_at is not None:
            raise RefreshTokenInvalid("the refresh token has been revoked")
        if row.expires_at <= now:
            raise RefreshTokenExpired("the refresh token has expired")
        # Conditional on still being unspent: of two concurrent refreshes, exactly one wins.
        won = session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == row.id,
                RefreshToken.spent_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(spent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            self._reused(session, row)
        return Spent(row.user_id, row.org_id, row.family_id)

    def revoke_family_of(self, session: Session, token: str, user_id: str) -> bool:
        """Revoke the family of ``token`` if it is ``user_id``'s; True if there was one."""
        row = self._find(session, token)
        if row is None or row.user_id != user_id:
            return False
        self.revoke_family(session, row.family_id, user_id)
        return True

    def revoke_family(self, session: Session, family_id: str, user_id: str) -> int:
        """Revoke every live token of a family of ``user_id``; the number revoked."""
        now = utcnow()
        revoked = session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if revoked:  # every gateway hears it once this commits
            broadcasts.note(session, sessions={family_id: math.floor(now.timestamp())})
        return revoked

    def _find(self, session: Session, token: str) -> RefreshToken | None:
        query = select(RefreshToken).where(RefreshToken.token_hash == token_hash(token))
        return session.scalar(query)

    def _reused(self, session: Session, row: RefreshToken) -> None:
        revoked = self.revoke_family(session, row.family_id, row.user_id)
        audit.record(
            session,
            "refresh_token.reused",
            org_id=row.org_id,
            actor_id=row.user_id,
            target=row.family_id,
            revoked=revoked,
        )
        # Committed before raising: the error response must not roll the revocation back.
        session.commit()
        log.warning(
            "a spent refresh token was re-used; its family is revoked",
            extra={"user_id": row.user_id, "family_id": row.family_id, "revoked": revoked},
        )
        raise RefreshTokenReused("the refresh token was already used; sign in again")
