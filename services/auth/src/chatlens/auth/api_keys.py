"""API keys for scripts and the CLI: ``clk_<key id>_<secret>``, shown once, stored hashed.

A key acts as its creator in one org with a subset of their permissions (its scopes). What a key
may do is worked out again at every verification: the scopes it was given, cut down to what its
creator's current role allows, and nothing at all once the creator is disabled or leaves the org.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.auth import accounts, broadcasts
from chatlens.auth.accounts import Account
from chatlens.auth.errors import Forbidden, NotFound
from chatlens.auth.permissions import MEMBERS_MANAGE, permissions_for
from chatlens.auth.tables import ApiKey, new_id, utcnow

log = logging.getLogger(__name__)

PREFIX = "clk_"
HEX_ID = re.compile(r"[0-9a-f]{32}")
# last_used_at is written at most this often per key: a busy script must not write per request.
LAST_USED_EVERY = timedelta(minutes=1)


class InvalidApiKey(Exception):
    pass


def create(session: Session, actor: Account, name: str, scopes: list[str], ttl: timedelta) -> dict:
    """A new key of the actor in their active org; the answer holds the key, this once."""
    allowed = permissions_for(actor.role)
    if not set(scopes) <= allowed:
        extra = ", ".join(sorted(set(scopes) - allowed))
        raise Forbidden(f"your role ({actor.role}) cannot grant: {extra}")
    secret, now = secrets.token_urlsafe(32), utcnow()
    row = ApiKey(
        id=new_id(),
        user_id=actor.user.id,
        org_id=actor.org.id,
        name=name,
        scopes=" ".join(sorted(set(scopes))),
        secret_hash=_hash(secret),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    log.info(
        "API key created",
        extra={"key_id": row.id, "user_id": actor.user.id, "org_id": actor.org.id},
    )
    return {**view(row), "key": f"{PREFIX}{row.id.replace('-', '')}_{secret}"}


def listed(session: Session, actor: Account) -> list[dict]:
    """The actor's keys in the org; every key of the org for those who manage members."""
    query = select(ApiKey).where(ApiKey.org_id == actor.org.id).order_by(ApiKey.created_at)
    if MEMBERS_MANAGE not in permissions_for(actor.role):
        query = query.where(ApiKey.user_id == actor.user.id)
    return [view(row) for row in session.scalars(query)]


def revoke(session: Session, actor: Account, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    mine = row is not None and row.user_id == actor.user.id
    managed = MEMBERS_MANAGE in permissions_for(actor.role)
    if row is None or row.org_id != actor.org.id or not (mine or managed) or row.revoked_at:
        raise NotFound("no such API key")
    row.revoked_at = utcnow()
    broadcasts.note(session, api_keys=[row.id])  # every gateway forgets it once this commits
    log.info("API key revoked", extra={"key_id": row.id, "by": actor.user.id})
    return row


def verify(session: Session, key: str) -> dict:
    """What a presented key may do: ``{key_id, user_id, org_id, scopes, expires_at}``."""
    key_id, secret = _parse(key)
    row = session.get(ApiKey, key_id) if key_id else None
    now = utcnow()
    if (
        row is None
        or not hmac.compare_digest(row.secret_hash, _hash(secret))
        or row.revoked_at is not None
        or row.expires_at <= now
    ):
        raise InvalidApiKey("the API key is invalid, expired or revoked")
    account = accounts.account_in(session, row.user_id, row.org_id)
    if account is None:
        raise InvalidApiKey("the API key's owner is no longer active in its org")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    scopes = sorted(set(row.scopes.split()) & permissions_for(account.role))
    return {
        "key_id": row.id,
        "user_id": row.user_id,
        "org_id": row.org_id,
        "scopes": scopes,
        "expires_at": row.expires_at.isoformat(),
    }


def view(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "user_id": row.user_id,
        "scopes": row.scopes.split(),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked": row.revoked_at is not None,
    }


def _parse(key: str) -> tuple[str | None, str]:
    if not key.startswith(PREFIX):
        return None, ""
    compact, _, secret = key[len(PREFIX) :].partition("_")
    if not (HEX_ID.fullmatch(compact) and secret):
        return None, ""
    return str(uuid.UUID(hex=compact)), secret


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
