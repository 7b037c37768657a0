"""The keys of org endpoints, read from auth when a request needs one (never from the bus).

An org's provider secrets live in auth, Fernet-encrypted; auth serves one in clear only on its
internal route (``POST /internal/v1/secrets/reveal``, guarded by ``INTERNAL_TOKEN``). A key read
is kept in this process for ``ttl_s`` seconds: every read is an audit event in auth, and a request
should not wait on auth each time. A replaced or deleted key is dropped at once when auth's
``ProviderSecretsChanged`` broadcast arrives (:func:`broadcast_routes`); one lost to a broker
outage is picked up within ``ttl_s``, and a resubscription drops every kept key.
A key is never logged: messages name the org and the secret, not the value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from chatlens.shared import queues
from chatlens.shared.bus import PermanentError, TransientError
from chatlens.shared.handling import Routes
from chatlens.shared.schemas import AccessRevoked, ProviderSecretsChanged

REVEAL_PATH = "/internal/v1/secrets/reveal"
HEADER = "X-Internal-Token"


class AuthKeys:
    """``key(org_id, name)``: the clear value of an org's provider secret."""

    def __init__(
        self,
        auth_url: str,
        internal_token: str,
        *,
        timeout_s: float = 5.0,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = auth_url.rstrip("/") + REVEAL_PATH
        self.internal_token, self.timeout_s, self.ttl_s = internal_token, timeout_s, ttl_s
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._http = requests.Session()

    def key(self, org_id: str, name: str) -> str:
        now = self.clock()
        with self._lock:
            cached = self._cache.get((org_id, name))
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        value = self._reveal(org_id, name)
        with self._lock:
            self._cache[(org_id, name)] = (now, value)
        return value

    def forget(self, org_id: str, names: list[str]) -> None:
        """Drop the kept values of the org's secrets ``names``: the next call reads them anew."""
        with self._lock:
            for name in names:
                self._cache.pop((org_id, name), None)

    def forget_all(self) -> None:
        """Drop every kept value (broadcasts may have been missed while unsubscribed)."""
        with self._lock:
            self._cache.clear()

    def _reveal(self, org_id: str, name: str) -> str:
        if not self.internal_token:
            raise PermanentError(
                "the inference service cannot read provider secrets: set "
                "INTERNAL_TOKEN for auth and inference",
                code="provider_secret_not_found",
            )
        try:
            response = self._http.post(
                self.url,
                json={"org_id": org_id, "name": name},
                headers={HEADER: self.internal_token},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise TransientError(f"auth did not answer for a provider secret: {exc!r}") from exc
        if response.status_code in (404, 422):
            raise PermanentError(
                f"the org has no provider secret {name!r}", code="provider_secret_not_found"
            )
        if response.status_code != 200:
            raise TransientError(f"auth answered {response.status_code} for a provider secret")
        value = response.json().get("value")
        if not isinstance(value, str) or not value:
            raise TransientError("auth answered a provider secret without a value")
        return value


def broadcast_routes(keys: AuthKeys) -> Routes:
    """The inference service's handler of broadcasts: a changed secret is forgotten at once."""

    def secrets_changed(message: ProviderSecretsChanged) -> None:
        keys.forget(message.org_id, message.names)

    def not_ours(message: AccessRevoked) -> None:
        """Every subscriber hears every broadcast; revocations are the gateways' business."""

    return Routes(
        queues.BROADCAST, {ProviderSecretsChanged: secrets_changed, AccessRevoked: not_ours}
    )
