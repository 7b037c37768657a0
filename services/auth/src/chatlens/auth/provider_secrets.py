"""Provider secrets (an org's keys for external LLM or embedding providers): Fernet-encrypted at
rest with a rotatable key list (MultiFernet), never returned in full by the API. The same keys
encrypt the users' TOTP secrets.

The key file (``SECRETS_KEY_PATH``, one Fernet key per line, newest first) is generated on first
start (``chatlens.shared.secret_box``, which the gateway uses too). ``admin rotate-secrets-key``
puts a new key first and re-encrypts every secret with it; the old keys stay in the file (still
able to decrypt) until removed with ``--drop-old``.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.auth.errors import NotFound
from chatlens.auth.tables import ProviderSecret, TotpCredential, new_id, utcnow
from chatlens.shared.secret_box import SecretBox, load_keys, write_keys

log = logging.getLogger(__name__)


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


def rotate(session: Session, box: SecretBox, drop_old: bool) -> int:
    """A new first key, every secret re-encrypted with it and committed; the number re-encrypted.

    The new key is written (beside the old ones) before anything is encrypted with it, and the
    old ones are dropped only after the re-encryption committed: no crash loses a secret.
    """
    keys = [Fernet.generate_key(), *load_keys(box.path)]
    write_keys(box.path, keys)
    fernet = MultiFernet([Fernet(key) for key in keys])
    rows = session.scalars(select(ProviderSecret)).all()
    for row in rows:
        row.ciphertext = fernet.rotate(row.ciphertext.encode()).decode()
    # TOTP secrets are kept with the same keys.
    for credential in session.scalars(select(TotpCredential)).all():
        credential.secret = fernet.rotate(credential.secret.encode()).decode()
    session.commit()
    if drop_old:
        write_keys(box.path, keys[:1])
    log.info("provider-secret key rotated", extra={"secrets": len(rows), "dropped_old": drop_old})
    return len(rows)


def view(row: ProviderSecret) -> dict:
    return {
        "name": row.name,
        "provider": row.provider,
        "hint": f"…{row.hint}" if row.hint else "…",
        "updated_at": row.updated_at.isoformat(),
    }
