"""The signature a receiver checks: ``Chatlens-Signature: t=<unix seconds>,v1=<hex>`` where
``v1`` is HMAC-SHA256, keyed with the webhook's secret, of ``<t>.`` followed by the exact body.

The timestamp is signed so a captured request cannot be replayed later: receivers refuse one
older than a few minutes (``verify``'s ``tolerance_s``). ``docs/webhooks.md`` shows the same
check in a few lines of Python.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE = "Chatlens-Signature"
EVENT = "Chatlens-Event"
DELIVERY = "Chatlens-Delivery"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret (256 random bits), shown to its owner once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Chatlens-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(
    secret: str, value: str, body: bytes, *, tolerance_s: float = 300.0, now: float | None = None
) -> bool:
    """True when ``value`` signs ``body`` with ``secret`` and its timestamp is recent enough."""
    fields: dict[str, list[str]] = {}
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        fields.setdefault(key, []).append(item)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
