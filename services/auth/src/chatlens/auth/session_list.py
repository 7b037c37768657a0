"""A user's sessions (refresh families) for the sessions page: device, address, last seen."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatlens.auth.tables import RefreshToken, utcnow


def live(session: Session, user_id: str, current_sid: str | None) -> list[dict]:
    """The user's sessions that can still refresh, most recently seen first."""
    families = session.execute(
        select(
            RefreshToken.family_id,
            func.min(RefreshToken.issued_at),
            func.max(RefreshToken.issued_at),
        )
        .where(RefreshToken.user_id == user_id)
        .group_by(RefreshToken.family_id)
        .having(
            func.count(RefreshToken.revoked_at) == 0, func.max(RefreshToken.expires_at) > utcnow()
        )
    ).all()
    listed = []
    for family_id, started, last_seen in families:
        newest = session.scalar(
            select(RefreshToken)
            .where(RefreshToken.family_id == family_id)
            .order_by(RefreshToken.issued_at.desc())
            .limit(1)
        )
        listed.append(
            {
                "id": family_id,
                "org_id": newest.org_id,
                "address": newest.address,
                "user_agent": newest.user_agent,
                "started_at": started.isoformat(),
                "last_seen_at": last_seen.isoformat(),
                "current": family_id == current_sid,
            }
        )
    return sorted(listed, key=lambda s: s["last_seen_at"], reverse=True)
