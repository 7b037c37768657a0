"""Login throttling with the ``limits`` library: strict per (account, address), loose per account.

Only failures count. Three moving windows:

* per (account, address): a few failures, then 429 for that pair only;
* per address: many failures across accounts (credential stuffing from one place);
* per account: many failures from anywhere (a distributed guess). This one is the lever an
  attacker would pull to lock the real user out, so it is not applied to an address from which
  the account has signed in successfully before (a known session address).

The storage is ``RATE_LIMIT_STORAGE_URI`` (``memory://`` by default; ``redis://...`` shares the
counters between replicas).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from chatlens.auth.errors import Throttled


class Throttle:
    def __init__(
        self,
        storage_uri: str,
        per_pair: str,
        per_address: str,
        per_account: str,
        per_user_codes: str,
        resets_per_address: str = "10 per hour",
        resets_per_account: str = "3 per hour",
    ) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self.pair, self.address = parse(per_pair), parse(per_address)
        self.account, self.codes = parse(per_account), parse(per_user_codes)
        self.reset_address = parse(resets_per_address)
        self.reset_account = parse(resets_per_account)

    def reset_requested(self, account: str, address: str) -> bool:
        """Count a password-reset request: :class:`Throttled` past the per-address limit; False
        (send nothing, answer the same) past the per-account one, whoever asks."""
        self._check(self.reset_address, ("reset-address", address))
        self._limiter.hit(self.reset_address, "reset-address", address)
        return self._limiter.hit(self.reset_account, "reset-account", account)

    def before_login(self, account: str, address: str, known_address: bool) -> None:
        """Raise :class:`Throttled` if this login attempt must wait."""
        checks = [(self.pair, ("pair", account, address)), (self.address, ("address", address))]
        if not known_address:
            checks.append((self.account, ("account", account)))
        for item, ids in checks:
            self._check(item, ids)

    def login_failed(self, account: str, address: str) -> None:
        self._limiter.hit(self.pair, "pair", account, address)
        self._limiter.hit(self.address, "address", address)
        self._limiter.hit(self.account, "account", account)

    def login_succeeded(self, account: str, address: str) -> None:
        self._limiter.clear(self.pair, "pair", account, address)

    def before_code(self, user_id: str) -> None:
        """Second factors (TOTP, recovery codes): a few wrong codes per user, then wait."""
        self._check(self.codes, ("code", user_id))

    def code_failed(self, user_id: str) -> None:
        self._limiter.hit(self.codes, "code", user_id)

    def _check(self, item: RateLimitItem, ids: tuple[str, ...]) -> None:
        if not self._limiter.test(item, *ids):
            reset_at, _ = self._limiter.get_window_stats(item, *ids)
            raise Throttled(max(1, math.ceil(reset_at - time.time())))
