"""Provider secrets (an org's keys for external LLM or embedding providers): Fernet-encrypted at
rest with a rotatable key list (MultiFernet), never returned in full by the API. The same keys
encrypt the users' TOTP secrets.

The key file (``SECRETS_KEY_PATH``, one Fernet key per line, newest first) is generated on first
start (``chatlens.shared.secret_box``, which the gateway uses too). ``admin rotate-secrets-key``
puts a new key first and re-encrypts every secret with it (``chatlens.shared.key_rotation``); the
old keys stay in the file (still able to decrypt) until removed with ``--drop-old``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chatlens.auth.errors import NotFound
from chatlens.auth.tables import ProviderSecret, TotpCredential, new_id, utcnow
from chatlens.shared import key_rotation
from chatlens.shared.secret_box import SecretBox


def put(
    session: Session,
    box: SecretBox,
    org_id: str,
    user_id: str,
    name: str,
    provider: str,
    value: str,
) -> dict:
    """Store (or replace) the org's secret ``name``."""
    row = session.scalar(
        select(ProviderSecret).where(ProviderSecret.org_id == org_id, ProviderSecret.name == name)
    )
    if row is None:
        row = ProviderSecret(id=new_id(), org_id=org_id, name=name)
        session.add(row)
    row.provider, row.created_by, row.updated_at = provider, user_id, utcnow()
    row.ciphertext = box.fernet().encrypt(value.encode()).decode()
    row.hint = value[-4:] if len(value) >= 12 else ""
    session.flush()
    return view(row)


def listed(session: Session, org_id: str) -> list[dict]:
    rows = session.scalars(
        select(ProviderSecret).where(ProviderSecret.org_id == org_id).order_by(ProviderSecret.name)
    )
    return [view(row) for row in rows]


def remove(session: Session, org_id: str, name: str) -> None:
    row = session.scalar(
        select(ProviderSecret).where(ProviderSecret.org_id == org_id, ProviderSecret.name == name)
    )
    if row is None:
        raise NotFound("no such secret in this org")
    session.delete(row)


def reveal(session: Session, box: SecretBox, org_id: str, name: str) -> str:
    """The clear value, for a service that calls the provider; never sent to a browser."""
    row = session.scalar(
        select(ProviderSecret).where(ProviderSecret.org_id == org_id, ProviderSecret.name == name)
    )
    if row is None:
        raise NotFound("no such secret in this org")
    return box.fernet().decrypt(row.ciphertext.encode()).decode()


def rotate(
    sessions: sessionmaker[Session], box: SecretBox, drop_old: bool, new_key: bool = True
) -> key_rotation.Rotation:
    """A new first key (unless ``new_key`` is false: the file's first key is the new one), every
    provider and TOTP secret re-encrypted with it, the old keys dropped if asked once all are
    (:mod:`chatlens.shared.key_rotation`: no crash or concurrent change loses a secret)."""
    return key_rotation.rotate(
        box.path,
        sessions,
        [ProviderSecret.ciphertext, TotpCredential.secret],  # TOTP secrets share the keys
        new_key=new_key,
        drop_old=drop_old,
    )


def view(row: ProviderSecret) -> dict:
    return {
        "name": row.name,
        "provider": row.provider,
        "hint": f"…{row.hint}" if row.hint else "…",
        "updated_at": row.updated_at.isoformat(),
    }
