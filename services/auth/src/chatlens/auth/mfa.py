"""MFA with TOTP: enrollment, confirmation, the second factor at login, recovery codes, removal.

Plain functions over a SQLAlchemy session; the caller commits. A code is accepted once: the
credential remembers the last accepted time step and takes only later ones (the update is
conditional, so two concurrent logins with one code cannot both win). Recovery codes are random,
shown once, stored as SHA-256, and each works once. The TOTP secret itself is stored encrypted
with the Fernet keys of :mod:`chatlens.auth.provider_secrets` (rotated with them).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from chatlens.auth import totp
from chatlens.auth.errors import Conflict, NotFound
from chatlens.auth.provider_secrets import SecretBox
from chatlens.auth.tables import RecoveryCode, TotpCredential, User, new_id, utcnow

log = logging.getLogger(__name__)

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def enabled(session: Session, user_id: str) -> bool:
    credential = session.get(TotpCredential, user_id)
    return credential is not None and credential.confirmed_at is not None


def start(session: Session, box: SecretBox, user: User) -> dict:
    """A new pending secret (replacing a pending one) with its otpauth URI and QR code."""
    credential = session.get(TotpCredential, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise Conflict("mfa_enabled", "TOTP is already on; turn it off first to enroll again")
    if credential is None:
        credential = TotpCredential(user_id=user.id)
        session.add(credential)
    secret = totp.new_secret()
    credential.secret = box.fernet().encrypt(secret.encode()).decode()
    credential.created_at, credential.last_step = utcnow(), None
    session.flush()
    uri = totp.otpauth_uri(secret, user.email)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)}


def confirm(session: Session, box: SecretBox, user_id: str, code: str) -> list[str] | None:
    """Turn TOTP on with a first good code; the recovery codes (shown once), or None if wrong."""
    credential = session.get(TotpCredential, user_id)
    if credential is None or credential.confirmed_at is not None:
        raise NotFound("no pending TOTP enrollment; start one first")
    if not _use_code(session, box, credential, code):
        return None
    credential.confirmed_at = utcnow()
    log.info("TOTP turned on", extra={"user_id": user_id})
    return new_recovery_codes(session, user_id)


def verify(session: Session, box: SecretBox, user_id: str, code: str) -> bool:
    """True for a fresh TOTP code or an unused recovery code of ``user_id`` (then spent)."""
    credential = session.get(TotpCredential, user_id)
    if credential is None or credential.confirmed_at is None:
        return False
    return _use_code(session, box, credential, code) or _use_recovery_code(session, user_id, code)


def disable(session: Session, user_id: str) -> None:
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    log.info("TOTP turned off", extra={"user_id": user_id})


def new_recovery_codes(session: Session, user_id: str) -> list[str]:
    """Replace the user's recovery codes with new ones; the codes, in clear, this once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(
        RecoveryCode(id=new_id(), user_id=user_id, code_hash=_hash(code)) for code in codes
    )
    session.flush()
    return codes


def _use_code(session: Session, box: SecretBox, credential: TotpCredential, code: str) -> bool:
    secret = box.fernet().decrypt(credential.secret.encode()).decode()
    step = totp.matching_step(secret, code, time.time())
    if step is None:
        return False
    won = session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == credential.user_id,
            or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        log.warning("a TOTP code was used twice", extra={"user_id": credential.user_id})
    return won == 1


def _use_recovery_code(session: Session, user_id: str, code: str) -> bool:
    normalised = code.strip().lower().replace(" ", "")
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash(normalised),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    won = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won == 1:
        log.info("a recovery code was used", extra={"user_id": user_id})
    return won == 1


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
