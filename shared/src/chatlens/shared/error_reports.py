"""Error reports to Sentry (or a Sentry-compatible server such as GlitchTip), on only when
``SENTRY_DSN`` is set.

Every service's composition root calls :func:`init_sentry`. What leaves the process is what an
operator needs to find a fault, and nothing of the people whose chats we hold:

* every event is tagged with the service, the release, the environment and the request's
  correlation id (the one in the logs), so a report leads to the log lines of every service;
* the user is an id only (:func:`identify`); no e-mail, name or address;
* request bodies, cookies and local variables are never attached; credentials are filtered by key
  name (Sentry's list: password, token, secret, authorization, cookie, ...) and by shape in
  any string (bearer tokens, JWTs, e-mail addresses).
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode

import sentry_sdk
from sentry_sdk.scrubber import DEFAULT_DENYLIST

from chatlens.shared import logs

if TYPE_CHECKING:
    from sentry_sdk._types import Event

FILTERED = "[Filtered]"
# Keys whose values are secrets wherever they appear (extra data, breadcrumbs, query strings):
# Sentry's own list and ours. (Sentry's scrubber is off once ``data_collection`` is given.)
SECRET_KEYS = {
    *DEFAULT_DENYLIST,
    "x-internal-token",
    "internal_token",
    "x-api-key",
    "refresh_token",
    "access_token",
    "id_token",
    "code",
    "totp",
    "recovery_code",
    "fernet_key",
    "client_secret",
    "dsn",
}
_SECRET_KEY = re.compile(
    r"pass|token|secret|auth|cookie|session|key|csrf|credential|otp", re.IGNORECASE
)
_SHAPES = [
    (re.compile(r"(?i)\bbearer\s+[\w\-.~+/=]+"), "Bearer " + FILTERED),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"), FILTERED),  # a JWT
    (re.compile(r"\bclk_[\w-]{8,}"), FILTERED),  # a Chatlens API key
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"), "[email]"),
]


def init_sentry(
    dsn: str | None, service: str, *, environment: str = "production", release: str | None = None
) -> bool:
    """Turn Sentry on when a DSN is configured; with none nothing is set up and nothing is sent.
    Returns whether reports are on."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        server_name=service,
        release=release or default_release(),
        environment=environment,
        # No user details, cookies or addresses from the integrations; no request bodies (uploads
        # and sign-in forms stay here); no local variables (one may hold a message or a password).
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
        traces_sample_rate=0.0,
        before_send=_before_send,
        before_breadcrumb=lambda crumb, _hint: _scrub_strings(crumb),
    )
    sentry_sdk.set_tag("service", service)
    return True


def default_release() -> str:
    """``chatlens@<version>``: the shared package's version, the same in every service image."""
    try:
        return f"chatlens@{metadata.version('chatlens-shared')}"
    except metadata.PackageNotFoundError:
        return "chatlens@unknown"


def identify(user_id: str | None) -> None:
    """Name the caller of the current request in its reports, by id only."""
    sentry_sdk.set_user({"id": user_id} if user_id else None)


def scrub(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Sentry's ``before_send``: the correlation id in, secrets and personal data out."""
    correlation_id = logs.get_correlation_id()
    if correlation_id:
        event.setdefault("tags", {})["correlation_id"] = correlation_id
    user = event.get("user") or {}
    event["user"] = {"id": user["id"]} if user.get("id") else {}
    request = event.get("request")
    if isinstance(request, dict):
        for part in ("data", "cookies", "env"):
            request.pop(part, None)
        headers = request.get("headers") or {}
        request["headers"] = {
            name: FILTERED if _SECRET_KEY.search(name) else value for name, value in headers.items()
        }
        if request.get("query_string"):
            request["query_string"] = _scrub_query(str(request["query_string"]))
    release = event.get("release")
    event = _scrub_strings(event)
    event["release"] = release  # chatlens@1.2.3 is not an address
    return event


def _before_send(event: Event, _hint: dict[str, Any]) -> Event:
    return cast("Event", scrub(cast("dict[str, Any]", event)))


def _scrub_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [
            (k, FILTERED if _SECRET_KEY.search(k) or k.lower() in SECRET_KEYS else v)
            for k, v in pairs
        ]
    )


def _scrub_strings(value: Any) -> Any:
    """``value`` with bearer tokens, JWTs, API keys, e-mail addresses and secret keys filtered."""
    if isinstance(value, str):
        for pattern, replacement in _SHAPES:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {
            key: FILTERED if str(key).lower() in SECRET_KEYS else _scrub_strings(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub_strings(item) for item in value]
    return value
