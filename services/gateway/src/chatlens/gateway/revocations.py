"""Auth's signed revocation feed: the access tokens that ended before their ``exp``.

A token cannot tell us that its session was logged out or that its user changed password; auth
publishes that at ``GET /internal/v1/revocations`` as a short-lived JWT (``typ: "revocations"``)
with ``sessions: {sid: revoked_at}`` and ``users: {sub: valid_after}``. We keep one verified copy,
fetch a new one at most every ``refresh_s`` seconds (one fetch at a time, on a thread of its own
while the copy is still valid, so that no request waits for auth), and fail closed once the copy
has expired and auth does not answer: a gateway that cannot know whether a session ended must
not let it through.

Auth also broadcasts each revocation over the bus the moment it is committed
(``AccessRevoked``, :mod:`chatlens.gateway.revocation_push`): :meth:`RevocationFeed.push` keeps
those beside the copy, so a token is refused at once, and the poll remains the fallback for a
broadcast lost on the way (and the authority: the news only ever refuses more).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from chatlens.shared.web import ApiError

log = logging.getLogger(__name__)

TYP = "revocations"
INTERNAL_TOKEN_HEADER = "X-Internal-Token"
# How long pushed news is kept: past auth's access-token lifetime (900 s by default) plus leeway,
# after which every token it could end has expired anyway.
PUSHED_KEEP_S = 3600.0


@dataclass(frozen=True)
class Revocations:
    """One verified copy of the feed."""

    sessions: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    expires_at: float = 0.0

    def ends(self, user_id: str, sid: str | None, iat: int | None) -> bool:
        """True when a token of ``user_id`` in session ``sid`` issued at ``iat`` has ended."""
        if sid is not None and sid in self.sessions:
            return True
        valid_after = self.users.get(user_id)
        return valid_after is not None and (iat is None or iat < valid_after)


class RevocationFeed:
    """A cached, verified copy of the feed, fetched at most every ``refresh_s`` seconds.

    ``decode`` checks a feed JWT (signature against auth's JWKS, issuer, audience, ``typ`` and
    ``exp``) and returns its claims; it raises :class:`ApiError` when the token is bad.
    """

    def __init__(
        self,
        url: str,
        http: requests.Session,
        decode: Callable[[str], dict[str, Any]],
        *,
        internal_token: str = "",
        refresh_s: float = 5.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url, self._http, self._decode = url, http, decode
        self._internal_token, self.refresh_s, self._timeout_s = internal_token, refresh_s, timeout_s
        self._clock = clock
        self._copy: Revocations | None = None
        self._fetched_at = float("-inf")
        # One fetch at a time; the copy itself is swapped atomically (one attribute write).
        self._fetch_lock = threading.Lock()
        # What auth broadcast (never expires by ``exp``: it is pruned after PUSHED_KEEP_S).
        self._pushed = Revocations()
        self._push_lock = threading.Lock()

    def ended(self, user_id: str, sid: str | None, iat: int | None) -> bool:
        """True when auth's news or the feed says the token has ended (the feed is consulted,
        and fetched when due, either way unless the news already refuses it)."""
        return self._pushed.ends(user_id, sid, iat) or self.current().ends(user_id, sid, iat)

    def push(self, sessions: dict[str, int], users: dict[str, int]) -> None:
        """Take auth's broadcast news: these sessions ended, these users' tokens issued before
        the given epoch second are void."""
        with self._push_lock:
            merged = {**self._pushed.sessions, **sessions}
            valid_after = dict(self._pushed.users)
            for user_id, at in users.items():
                valid_after[user_id] = max(at, valid_after.get(user_id, at))
            horizon = self._clock() - PUSHED_KEEP_S
            self._pushed = Revocations(
                sessions={k: v for k, v in merged.items() if v >= horizon},
                users={k: v for k, v in valid_after.items() if v >= horizon},
            )

    def refresh_soon(self) -> None:
        """Fetch the feed at the next check (the broadcasts were not heard for a while)."""
        self._fetched_at = float("-inf")

    def current(self) -> Revocations:
        """A copy no older than ``refresh_s`` (plus one fetch) when auth answers; the cached one
        while it is still valid when it does not; 503 ``auth_unavailable`` otherwise.

        While the cached copy is valid, no request waits for auth: a due fetch runs on a thread
        of its own and this request is answered with the cached copy (auth's broadcasts refuse
        a revoked token at once anyway). Fetching inline made one request every ``refresh_s``
        wait for auth, for up to the fetch's timeout when auth was busy (a sign-in storm's
        password hashes ahead of the fetch in its queue): a search's p99 was that wait."""
        if self._clock() - self._fetched_at < self.refresh_s:
            return self._copy  # type: ignore[return-value]  # set with _fetched_at
        usable = self._usable()
        if usable is not None:
            if self._fetch_lock.acquire(blocking=False):  # else another fetch is under way
                threading.Thread(
                    target=self._refresh_in_background, name="revocation-feed", daemon=True
                ).start()
            return usable
        with self._fetch_lock:  # nothing valid to answer with: fetch now, or wait for one
            if self._clock() - self._fetched_at < self.refresh_s:  # fetched while we waited
                return self._copy  # type: ignore[return-value]
            try:
                self._copy = self._fetch()
                self._fetched_at = self._clock()
            except (requests.RequestException, ValueError, TypeError, ApiError) as exc:
                usable = self._usable()
                if usable is None:
                    raise ApiError(
                        503, "auth_unavailable", "cannot read the auth service's revocation feed"
                    ) from exc
                return usable
            return self._copy

    def _refresh_in_background(self) -> None:
        """Fetch the feed (the caller holds ``_fetch_lock``, released here)."""
        try:
            self._copy = self._fetch()
            self._fetched_at = self._clock()
        except (requests.RequestException, ValueError, TypeError, ApiError) as exc:
            usable = self._usable()
            log.warning(
                "revocation feed refresh failed; using the cached copy until it expires",
                extra={
                    "error": str(exc),
                    "expires_in_s": round(usable.expires_at - self._clock(), 1) if usable else 0,
                },
            )
        except Exception:  # a thread of our own: say why it ended, then the next request retries
            log.exception("revocation feed refresh failed")
        finally:
            self._fetch_lock.release()

    def _usable(self) -> Revocations | None:
        copy = self._copy
        return copy if copy is not None and copy.expires_at > self._clock() else None

    def _fetch(self) -> Revocations:
        headers = {INTERNAL_TOKEN_HEADER: self._internal_token} if self._internal_token else {}
        response = self._http.get(self.url, headers=headers, timeout=self._timeout_s)
        if response.status_code != 200:
            raise ValueError(f"the revocation feed answered {response.status_code}")
        token = response.json().get("token")
        if not isinstance(token, str):
            raise ValueError("the revocation feed has no token")
        claims = self._decode(token)
        sessions, users = claims.get("sessions", {}), claims.get("users", {})
        if not isinstance(sessions, dict) or not isinstance(users, dict):
            raise ValueError("the revocation feed's sessions or users is not an object")
        return Revocations(
            sessions={str(k): int(v) for k, v in sessions.items()},
            users={str(k): int(v) for k, v in users.items()},
            expires_at=float(claims["exp"]),
        )
