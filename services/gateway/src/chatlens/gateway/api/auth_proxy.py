"""``/api/v1/auth/*`` and ``/api/v1/me``: forwarded to the auth service over HTTP.

Auth owns users and tokens; the gateway is the one public entry, so it relays these calls with
the caller's headers and the correlation id, and relays auth's answer unchanged.
"""

from __future__ import annotations

import requests
from flask import Blueprint, Response, current_app, request

from chatlens.shared import logs
from chatlens.shared.web import ApiError

bp = Blueprint("auth_proxy", __name__)
FORWARDED_HEADERS = ("Authorization", "Content-Type", "User-Agent", "Accept")
MAX_BODY = 64 * 1024


@bp.route("/api/v1/auth/<path:rest>", methods=["GET", "POST"])
def auth(rest: str):
    return _forward(f"/api/v1/auth/{rest}")


@bp.get("/api/v1/me")
def me():
    return _forward("/api/v1/me")


def _forward(path: str) -> Response:
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body exceeds {MAX_BODY} bytes")
    session: requests.Session = current_app.extensions["chatlens.http"]
    base = current_app.config["CHATLENS_SETTINGS"].auth_url.rstrip("/")
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    headers[logs.HEADER] = logs.get_correlation_id() or ""
    headers["X-Forwarded-For"] = request.remote_addr or ""
    try:
        upstream = session.request(request.method, base + path, data=request.get_data(),
                                   headers=headers, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        raise ApiError(503, "auth_unavailable", f"the auth service did not answer: {exc}") from None
    response = Response(upstream.content, status=upstream.status_code)
    for name in ("Content-Type", "Retry-After", "WWW-Authenticate"):
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response
