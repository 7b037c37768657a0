"""Security-relevant events of the gateway (a deletion, later an export), kept in auth's
append-only audit log through ``POST /internal/v1/audit``, where org admins read them.

The event is sent after the change is committed: a change that happened is never refused because
the log is unreachable, and a failed append is logged as an error with the whole event (so it can
be recovered from the logs), never dropped silently.
"""

from __future__ import annotations

import logging

import requests

from chatlens.gateway.revocations import INTERNAL_TOKEN_HEADER

log = logging.getLogger(__name__)


class AuditLog:
    def __init__(
        self, url: str, http: requests.Session, *, internal_token: str = "", timeout_s: float = 5.0
    ) -> None:
        self.url, self._http = url, http
        self._internal_token, self._timeout_s = internal_token, timeout_s

    def record(
        self,
        event: str,
        *,
        org_id: str,
        actor_id: str,
        target: str | None = None,
        **details: str | int | float | bool | None,
    ) -> bool:
        """Appends one event; False (and an error in the log) when auth did not take it."""
        body = {
            "event": event,
            "org_id": org_id,
            "actor_id": actor_id,
            "target": target,
            "details": details,
        }
        headers = {INTERNAL_TOKEN_HEADER: self._internal_token} if self._internal_token else {}
        try:
            response = self._http.post(
                self.url, json=body, headers=headers, timeout=self._timeout_s
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            log.error(
                "audit event not recorded by auth", extra={"audit_event": body, "error": str(exc)}
            )
            return False
        return True
