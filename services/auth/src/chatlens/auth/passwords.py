"""Password hashing with argon2id (argon2-cffi), including a decoy check for unknown
users, so a login for an unknown email costs the same time as one with a wrong password.

A hash costs about 0.2 CPU-seconds with the default parameters, so at most ``slots`` run at once
(the cores auth may spend on them): a request that finds every slot taken for ``wait_s`` is
refused with :class:`PasswordsBusy` (503, ``Retry-After``) instead of queueing. Under a sign-in
storm the request threads then keep turning over, and auth's cheap requests (token refresh,
switching org, the gateway's revocation feed, API key checks) are not stuck behind the hashes.
"""

from __future__ import annotations

import logging
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from chatlens.auth.errors import PasswordsBusy

log = logging.getLogger(__name__)


def _normalise(password: str) -> str:
    # The same password typed on two keyboards can arrive as different code points (é vs e+´).
    return unicodedata.normalize("NFKC", password)


class Passwords:
    """Hashes and checks passwords; ``verify`` costs the same whether or not the user exists."""

    def __init__(
        self,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        *,
        slots: int = 2,
        wait_s: float = 0.2,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._slots = threading.BoundedSemaphore(slots)
        self._wait_s = wait_s
        # Checked when the email is unknown, so that answer takes as long as a wrong password.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise PasswordsBusy(retry_after_s=1)
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(_normalise(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches ``stored_hash``; None (no such user) is always False."""
        try:
            with self._slot():
                self._hasher.verify(stored_hash or self._decoy_hash, _normalise(password))
        except VerifyMismatchError:
            return False
        except InvalidHashError:
            log.error("a stored password hash is not an argon2 hash; the login is refused")
            return False
        return stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)
