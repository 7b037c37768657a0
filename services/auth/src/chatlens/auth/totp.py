"""TOTP (RFC 6238) with pyotp, plus the single-use rule pyotp leaves to us.

pyotp computes the codes; :func:`matching_step` says which time step a code belongs to (within
one step of clock drift either way), so the caller can refuse it when that step, or a later one,
was already used.
"""

from __future__ import annotations

import hmac
import io

import pyotp
import segno

ISSUER = "Chatlens"
DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The otpauth URI as an SVG QR code, for authenticator apps to scan."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return buffer.getvalue().decode()


def matching_step(
    secret: str, code: str, now: float, *, digits: int = DIGITS, digest=None
) -> int | None:
    """The time step (``now // 30`` ± drift) whose code is ``code``, or None."""
    if not (code.isascii() and code.isdigit() and len(code) == digits):
        return None
    totp = pyotp.TOTP(secret, digits=digits, digest=digest, interval=INTERVAL)
    current = int(now) // INTERVAL
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * INTERVAL), code):
            return step
    return None
