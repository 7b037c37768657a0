"""API keys (``clk_…``): checked by auth at ``POST /internal/v1/api-keys/verify``.

A key is opaque to us, so every new key is a call to auth. A key auth accepted is remembered for
at most ``cache_s`` seconds, keyed by its SHA-256 (the key itself is never kept), so a script's
burst of requests costs one call; a refused key is never remembered (a fresh key must work at
once), and a revoked one stops working within ``cache_s``, or at once when auth's broadcast of
its revocation (or of a change to its user) arrives (:meth:`ApiKeyVerifier.forget`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from chatlens.gateway.revocations import INTERNAL_TOKEN_HEADER
from chatlens.shared.web import ApiError

if TYPE_CHECKING:  # security imports this module
    from chatlens.gateway.security import Principal

log = logging.getLogger(__name__)

PREFIX = "clk_"
ROLE = "api_key"
MAX_CACHED = 10_000


class ApiKeyVerifier:
    def __init__(
        self,
        url: str,
        http: requests.Session,
        principal: Callable[..., Principal],
        *,
        internal_token: str = "",
        cache_s: float = 30.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self._http, self._principal = url, http, principal
        self._internal_token, self._cache_s, self._timeout_s = internal_token, cache_s, timeout_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def verify(self, key: str) -> Principal:
        """The principal of ``key``: its user and org, with the key's scopes as permissions."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = self._ask_auth(key)
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                if len(self._cache) >= MAX_CACHED:  # all fresh: start over rather than grow
                    self._cache.clear()
            self._cache[digest] = (now + self._cache_s, principal)
        return principal

    def forget(self, key_ids: list[str], user_ids: list[str]) -> None:
        """Drop the remembered answers for these keys and for every key of these users (a
        removal or role change may narrow what their keys may do): auth is asked again."""
        keys, users = set(key_ids), set(user_ids)
        with self._lock:
            self._cache = {
                digest: (until, principal)
                for digest, (until, principal) in self._cache.items()
                if getattr(principal, "key_id", None) not in keys
                and getattr(principal, "user_id", None) not in users
            }

    def _ask_auth(self, key: str) -> Principal:
        headers = {INTERNAL_TOKEN_HEADER: self._internal_token} if self._internal_token else {}
        try:
            response = self._http.post(
                self.url, json={"key": key}, headers=headers, timeout=self._timeout_s
            )
        except requests.RequestException as exc:
            raise ApiError(
                503, "auth_unavailable", "cannot reach the auth service to check the API key"
            ) from exc
        if response.status_code in (400, 401, 422):
            raise ApiError(
                401,
                "invalid_api_key",
                "the API key is invalid, expired or revoked",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if response.status_code != 200:
            log.error("auth answered the API key check with %s", response.status_code)
            raise ApiError(503, "auth_unavailable", "the auth service could not check the API key")
        body = response.json()
        scopes = body.get("scopes")
        if not isinstance(scopes, list) or not body.get("user_id") or not body.get("org_id"):
            raise ApiError(503, "auth_unavailable", "the auth service's answer is malformed")
        return self._principal(
            user_id=str(body["user_id"]),
            org_id=str(body["org_id"]),
            role=ROLE,
            perms=frozenset(str(s) for s in scopes),
            key_id=str(body.get("key_id") or "") or None,
        )
