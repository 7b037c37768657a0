"""Rate limits and daily quotas: one table (:data:`RULES`), the ``limits`` library, Redis.

Every request is counted against its client address (a loose ceiling, and a strict one on the
anonymous routes: registration, login, refresh), in a ``before_request`` hook keyed by the route
(method and URL rule), so no view knows about limits. Once a request is authenticated
(:func:`chatlens.gateway.security.authenticate`) it is also counted against its caller (the user
of an access token, or the API key) and the caller's org, with stricter limits on the costly
routes (answers, summaries, uploads, completions). Per-org daily quotas count uploaded files and
generated tokens (the completion tokens of answers, summaries and chat completions, streamed or
not: ``application.usage`` spends them through :func:`spend_tokens` as it records each generation,
inside a stream when it ends or its client leaves).

A refusal is ``429 rate_limited`` (or ``quota_exceeded``) with ``Retry-After``; every counted
response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds) of
its tightest window. Counters live in Redis (``REDIS_URL``), shared by every gateway replica;
without it (the embedded setup) in this process's memory. ``RATE_LIMIT_SCALE`` multiplies every
limit (tests and benchmarks that need many requests raise it; there is no "off").

If Redis cannot be reached, this process counts in its own memory with the same limits until
Redis answers again (tried again every :data:`REDIS_RETRY_S`): neither refusing everything
(losing the limiter must not take the API down) nor limiting nothing (an outage must not open
the costly routes to floods). With N gateway replicas each one then allows the full limit, so a
caller may get up to N times it while Redis is away. The switch is logged once each way and every
check made in memory meanwhile is counted in ``chatlens_gateway_ratelimit_fallback_total``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from limits import RateLimitItem, parse, storage, strategies
from limits.errors import StorageError
from limits.util import WindowStats

from chatlens.gateway.metrics import RATE_LIMIT_FALLBACK
from chatlens.shared.web import ApiError

if TYPE_CHECKING:
    from chatlens.gateway.security import Principal

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """Limits of one route (``limits`` notation); None: the default row's."""

    caller: str | None = None  # per user (access token) or per API key
    org: str | None = None  # all callers of one org together
    address: str | None = None  # per client address, authenticated or not


DEFAULT = Rule(caller="600/minute", org="3000/minute", address="1200/minute")
# "METHOD route" as the public API spells it (the URL rule, or the path of a route auth serves
# through our proxy): stable while the views behind them are rewritten.
RULES: dict[str, Rule] = {
    "POST /api/v1/auth/register": Rule(address="10/hour"),
    "POST /api/v1/auth/login": Rule(address="60/minute"),
    "POST /api/v1/auth/refresh": Rule(address="120/minute"),
    "POST /api/v1/collections/<collection_id>/ask": Rule(caller="20/minute", org="60/minute"),
    "POST /api/v1/collections/<collection_id>/summaries": Rule(caller="6/minute", org="20/minute"),
    "POST /api/v1/collections/<collection_id>/uploads": Rule(caller="20/minute", org="60/minute"),
    "POST /v1/chat/completions": Rule(caller="30/minute", org="90/minute"),
    "POST /v1/embeddings": Rule(caller="120/minute", org="600/minute"),
    "POST /api/v1/collections/<collection_id>/search": Rule(caller="300/minute", org="1200/minute"),
    "POST /api/v1/search": Rule(caller="300/minute", org="1200/minute"),
}
# Routes a probe or a scraper calls: never counted.
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
# Which quota a route spends, and how its response says how much.
UPLOADS, TOKENS = "uploads", "tokens"
QUOTA_OF = {
    "POST /api/v1/collections/<collection_id>/uploads": UPLOADS,
    "POST /api/v1/collections/<collection_id>/ask": TOKENS,
    "POST /api/v1/collections/<collection_id>/summaries": TOKENS,
    "POST /v1/chat/completions": TOKENS,
}
# While Redis is unreachable, how long the memory fallback serves before Redis is tried again.
REDIS_RETRY_S = 5.0


def route_key() -> str:
    """The :data:`RULES` key of this request: its method and URL rule (or path, when that names a
    rule of its own); "" for an unknown URL."""
    if request.url_rule is None:
        return ""
    by_path = f"{request.method} {request.path}"
    return by_path if by_path in RULES else f"{request.method} {request.url_rule.rule}"


def exempt() -> bool:
    """Probes and static files; an unknown URL is counted (a scan is traffic too)."""
    return request.path in EXEMPT or request.path.startswith("/static/")


@dataclass(frozen=True)
class QuotaLeft:
    """One daily quota of an org: its size, what was spent, what is left, when it renews."""

    limit: int
    used: int
    remaining: int
    resets_in_s: int | None  # None: nothing spent in this window yet


class RateLimits:
    """The limiter of one gateway: :meth:`check_address` before each request, :meth:`check_caller`
    once it is authenticated, :meth:`after` on its response."""

    def __init__(
        self,
        storage_uri: str,
        *,
        scale: float = 1.0,
        uploads_per_day: int = 2000,
        tokens_per_day: int = 2_000_000,
    ) -> None:
        options = (
            {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
            if storage_uri.startswith(("redis://", "rediss://"))
            else {}
        )
        self.storage = storage.storage_from_string(storage_uri, wrap_exceptions=True, **options)
        self._primary = _Strategies(self.storage)
        # This process's own counters, for when the shared storage cannot be reached.
        self._fallback = _Strategies(storage.MemoryStorage()) if options else self._primary
        self._retry_primary_at = 0.0  # monotonic time; the fallback serves before it
        self._scale = scale
        self._items: dict[str, RateLimitItem] = {}
        self._quotas = {
            UPLOADS: self._item(f"{uploads_per_day}/day", scaled=False),
            TOKENS: self._item(f"{tokens_per_day}/day", scaled=False),
        }

    def _item(self, text: str, scaled: bool = True) -> RateLimitItem:
        key = f"{text}|{scaled}"
        if key not in self._items:
            item = parse(text)
            amount = max(1, int(item.amount * self._scale)) if scaled else item.amount
            self._items[key] = type(item)(amount, item.multiples, "chatlens")
        return self._items[key]

    @staticmethod
    def _limits_of(rule: Rule, scope: str) -> str:
        """The rule's limits for ``scope``, else the default row's (which has every scope)."""
        limits: str = getattr(rule, scope) or getattr(DEFAULT, scope)
        return limits

    def _limits(self, scope: str) -> str:
        return self._limits_of(RULES.get(route_key(), DEFAULT), scope)

    # --- the checks ----------------------------------------------------------------------------
    def check_address(self) -> None:
        """Count this request against its client address (the route's limit and the ceiling)."""
        if exempt():
            return
        address = request.remote_addr or "unknown"
        checks: list[tuple[str, tuple[str, ...]]] = [
            (self._limits_of(DEFAULT, "address"), ("address", address))
        ]
        rule = RULES.get(route_key())
        if rule is not None and rule.address:
            checks.append((rule.address, ("address", route_key(), address)))
        self._hit_all(checks, "rate_limited")

    def check_caller(self, principal: Principal) -> None:
        """Count this authenticated request against its caller and org, once per request."""
        if g.get("_chatlens_caller_counted") or exempt():
            return
        g._chatlens_caller_counted = True
        key = route_key()
        caller = f"key:{principal.key_id}" if principal.key_id else f"user:{principal.user_id}"
        self._hit_all(
            [
                (self._limits("caller"), ("caller", key, caller)),
                (self._limits("org"), ("org", key, principal.org_id)),
            ],
            "rate_limited",
        )
        quota = QUOTA_OF.get(key)
        if quota is not None:
            g._chatlens_quota = (quota, principal.org_id)
            self._test_quota(quota, principal.org_id)

    def after(self, response: Response) -> Response:
        """Spend the upload quota by the files the response accepted, and add the RateLimit
        headers (tokens are spent as they are recorded: :func:`spend_tokens`)."""
        spent = g.get("_chatlens_quota")
        if spent is not None and spent[0] == UPLOADS and response.status_code < 400:
            body = response.get_json(silent=True) if response.is_json else None
            accepted = body.get("jobs") if isinstance(body, dict) else None
            self.spend(UPLOADS, spent[1], len(accepted or ()))
        tightest = g.get("_chatlens_tightest")
        if tightest is not None:
            response.headers.update(_headers(*tightest))
        return response

    def spend(self, quota: str, org_id: str, amount: int) -> None:
        """Take ``amount`` from ``org_id``'s daily ``quota``."""
        if amount > 0:
            self._guarded(
                lambda use: use.quota.hit(self._quotas[quota], "quota", quota, org_id, cost=amount)
            )

    def left(self, quota: str, org_id: str) -> QuotaLeft:
        """What is left today of ``org_id``'s daily ``quota``; asking spends nothing."""
        item = self._quotas[quota]
        stats = self._guarded(lambda use: use.quota.get_window_stats(item, "quota", quota, org_id))
        used = max(0, item.amount - stats.remaining)
        # A day's window opens with its first spending: none yet, nothing to renew.
        resets_in_s = max(1, math.ceil(stats.reset_time - time.time())) if used else None
        return QuotaLeft(item.amount, used, max(0, stats.remaining), resets_in_s)

    # --- mechanics -----------------------------------------------------------------------------
    def _hit_all(self, checks: list[tuple[str, tuple[str, ...]]], code: str) -> None:
        for text, ids in checks:
            item = self._item(text)

            def hit(
                use: _Strategies, item: RateLimitItem = item, ids: tuple[str, ...] = ids
            ) -> tuple[bool, WindowStats]:
                return use.limiter.hit(item, *ids), use.limiter.get_window_stats(item, *ids)

            allowed, stats = self._guarded(hit)
            reset_s = max(1, math.ceil(stats.reset_time - time.time()))
            tightest = g.get("_chatlens_tightest")
            if tightest is None or stats.remaining < tightest[1]:
                g._chatlens_tightest = (item.amount, stats.remaining, reset_s)
            if allowed is False:
                raise ApiError(
                    429,
                    code,
                    f"too many requests: at most {item.amount} per "
                    f"{_window(item)}; try again in {reset_s} s",
                    headers={"Retry-After": str(reset_s), **_headers(item.amount, 0, reset_s)},
                )

    def _test_quota(self, quota: str, org_id: str) -> None:
        item = self._quotas[quota]
        if self._guarded(lambda use: use.quota.test(item, "quota", quota, org_id)) is False:
            stats = self._guarded(
                lambda use: use.quota.get_window_stats(item, "quota", quota, org_id)
            )
            reset_s = max(1, math.ceil(stats.reset_time - time.time()))
            raise ApiError(
                429,
                "quota_exceeded",
                f"your organisation used its daily quota of {item.amount} {quota}; "
                f"it renews in {reset_s} s",
                headers={"Retry-After": str(reset_s), **_headers(item.amount, 0, reset_s)},
            )

    def _guarded(self, call: Callable[[_Strategies], T]) -> T:
        """``call`` on the shared storage, or on this process's memory while it is unreachable."""
        if self._fallback is self._primary or time.monotonic() >= self._retry_primary_at:
            try:
                result = call(self._primary)
            except StorageError as exc:
                if self._retry_primary_at == 0.0:  # once per outage, not once per request
                    log.error(
                        "rate limit storage unavailable; counting in this process's "
                        "memory with the same limits until it is back",
                        extra={"error": str(exc.storage_error)},
                    )
                self._retry_primary_at = time.monotonic() + REDIS_RETRY_S
            else:
                if self._retry_primary_at:
                    log.warning("rate limit storage reachable again; counters shared again")
                    self._retry_primary_at = 0.0
                return result
        RATE_LIMIT_FALLBACK.inc()
        return call(self._fallback)


class _Strategies:
    """The two strategies over one storage: sliding windows for rates, fixed days for quotas."""

    def __init__(self, store: Any) -> None:  # a synchronous limits storage
        self.limiter = strategies.SlidingWindowCounterRateLimiter(store)
        self.quota = strategies.FixedWindowRateLimiter(store)


def spend_tokens(amount: int) -> None:
    """Spend ``amount`` completion tokens from this request's org's daily token quota, when its
    route has one (:data:`QUOTA_OF`); called as each generation is recorded, from inside a stream
    too (``stream_with_context`` keeps the request's context). Outside a request, nothing."""
    spent = g.get("_chatlens_quota") if has_request_context() else None
    if spent is not None and spent[0] == TOKENS:
        current_app.extensions["chatlens.ratelimits"].spend(TOKENS, spent[1], amount)


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


def _headers(limit: int, remaining: int, reset_s: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(max(0, remaining)),
        "RateLimit-Reset": str(reset_s),
    }


def init_app(app: Flask, limits: RateLimits) -> None:
    """Count every request against its address first; the caller is counted at authentication."""
    app.extensions["chatlens.ratelimits"] = limits
    app.before_request(limits.check_address)
    app.after_request(limits.after)
