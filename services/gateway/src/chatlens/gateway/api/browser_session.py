"""The refresh token of a browser client lives in a cookie the page's scripts cannot read.

A browser (the web app) asks for this by sending ``X-Chatlens-Session: cookie`` on its auth
calls. Then every token pair auth returns loses its ``refresh_token`` on the way back: the gateway
puts it in an ``HttpOnly; Secure; SameSite=Strict`` cookie scoped to the refresh path, and the
page keeps only the short-lived access token, in memory. ``POST /api/v1/auth/refresh`` with that
header and no token in the body spends the cookie's token, and the rotated one replaces it; a
refused refresh (spent, reused, expired) and a logout clear the cookie. A refresh whose body names
an ``org_id`` is auth's org switch (``/api/v1/auth/switch`` spends a refresh token too, but the
cookie is only ever sent to the refresh path): the pair comes back for that org of the same user.
API clients that do not send the header get auth's JSON unchanged.

CSRF: a cookie rides along on requests that other sites make the browser send, so a cookie-mode
call must also prove it comes from our own pages: the custom header itself (a cross-site page
cannot set it without a CORS preflight, which the gateway never grants), and an ``Origin`` (or,
lacking one, ``Sec-Fetch-Site: same-origin``) that names this site. SameSite=Strict is a third
layer, not the only one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Request, Response

from chatlens.shared.web import ApiError

HEADER = "X-Chatlens-Session"
COOKIE = "chatlens_refresh"
COOKIE_PATH = "/api/v1/auth/refresh"
# Auth's refresh tokens live for 30 days by default; the cookie never outlives the token by much.
COOKIE_MAX_AGE_S = 30 * 24 * 3600
# Endpoints that spend a refresh token; only ``refresh`` is on the cookie's path.
SPENDS_REFRESH_TOKEN = ("refresh",)
SWITCH_PATH = "/api/v1/auth/switch"
ENDS_SESSION = ("logout", "logout-all")

Forward = Callable[[str, bytes | None], Response]


def requested(request: Request) -> bool:
    """Whether the caller asked for the cookie mode (the web app always does)."""
    return request.headers.get(HEADER, "").strip().lower() == "cookie"


def relay(request: Request, rest: str, path: str, forward: Forward) -> Response:
    """Forward an auth call in cookie mode: the refresh token comes from and goes to the cookie."""
    check_same_origin(request)
    body: bytes | None = None
    if rest in SPENDS_REFRESH_TOKEN:
        body, org_id = _with_cookie_token(request)
        if org_id is not None:  # a refresh into another org of the user: auth's switch
            path = SWITCH_PATH
    response = forward(path, body)
    if rest in SPENDS_REFRESH_TOKEN and response.status_code == 401:
        clear_cookie(response)  # spent, reused or expired: it will never work again
    elif rest in ENDS_SESSION and response.status_code < 500:
        clear_cookie(response)
    _move_token_to_cookie(response)
    return response


def check_same_origin(request: Request) -> None:
    """403 unless the request demonstrably comes from a page of this very site."""
    expected = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin.rstrip("/") != expected:
            raise ApiError(403, "cross_origin", "this request must come from the app's own pages")
        return
    # A same-origin GET or HEAD may carry no Origin; Fetch Metadata then says where it came from.
    if request.headers.get("Sec-Fetch-Site") != "same-origin":
        raise ApiError(403, "cross_origin", "this request must come from the app's own pages")


def _with_cookie_token(request: Request) -> tuple[bytes, str | None]:
    """The body auth wants (the cookie's token, and the org asked for if any) and that org."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ApiError(401, "not_signed_in", "no session cookie: sign in again")
    sent = request.get_json(silent=True)
    org_id = sent.get("org_id") if isinstance(sent, dict) else None
    if org_id is None:
        return json.dumps({"refresh_token": token}).encode(), None
    if not isinstance(org_id, str) or not 0 < len(org_id) <= 64:
        raise ApiError(422, "invalid_request", "org_id: the id of one of your orgs")
    return json.dumps({"refresh_token": token, "org_id": org_id}).encode(), org_id


def _move_token_to_cookie(response: Response) -> None:
    if response.status_code != 200 or not response.is_json:
        return
    payload = response.get_json(silent=True)
    if not isinstance(payload, dict) or "refresh_token" not in payload:
        return
    token = payload.pop("refresh_token")
    response.set_data(json.dumps(payload))
    set_cookie(response, token)


def set_cookie(response: Response, token: str) -> None:
    """Keep ``token`` in the refresh cookie (HttpOnly, Secure, Strict, the refresh path only)."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="Strict",
    )


def clear_cookie(response: Response) -> None:
    """Expire the cookie (same name, path and attributes, or the browser keeps the old one)."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="Strict")
