"""Auth's own metrics beside the HTTP ones: the age of the key signing tokens now.

JWT signing keys do not expire; they are rotated (``python -m chatlens.auth admin rotate-key``).
The age lets an alert say when a rotation is overdue (deploy/monitoring/prometheus/alerts.yml).
"""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import Gauge

SIGNING_KEY_AGE = Gauge(
    "chatlens_auth_signing_key_age_seconds",
    "Seconds since the active JWT signing key was created or rotated in",
)


def watch_signing_key(path: Path) -> None:
    """Report the age of the key file at ``path`` (its mtime: written once, replaced when
    rotated)."""
    SIGNING_KEY_AGE.set_function(lambda: _age(path))


def _age(path: Path) -> float:
    try:
        return max(time.time() - path.stat().st_mtime, 0.0)
    except OSError:
        return float("nan")  # no key yet: nothing to say, rather than a false "new"
