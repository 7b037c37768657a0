"""``/api/v1/auth/*`` and ``/api/v1/me``: forwarded to the auth service over HTTP.

Auth owns users and tokens; the gateway is the one public entry, so it relays these calls with
a few of the caller's headers, the query string and the correlation id, and relays auth's answer.
Auth's ``/internal/*`` routes are for the services only: no path here can reach them (dot
segments are refused), and a client's ``X-Internal-Token`` is never passed on (only the headers
listed below are). ``X-Forwarded-For`` is the client's address as ProxyFix read it from nginx
(one trusted hop), never what the client wrote into the header itself.
"""

from __future__ import annotations

from urllib.parse import quote

import requests
from flask import Blueprint, Response, current_app, request

from chatlens.gateway.api import browser_session, oauth_browser
from chatlens.shared import logs
from chatlens.shared.web import ApiError, deadline_header, server_timing

bp = Blueprint("auth_proxy", __name__)
FORWARDED_HEADERS = ("Authorization", "Content-Type", "User-Agent", "Accept")
RETURNED_HEADERS = (
    "Content-Type",
    "Retry-After",
    "WWW-Authenticate",
    "Cache-Control",
    "Pragma",
    "Location",
)
MAX_BODY = 64 * 1024
AUTH_TIMEOUT_S = 10.0  # how long a proxied request waits for auth


@bp.route("/api/v1/auth/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def auth(rest: str):
    # Werkzeug has already decoded %2e and %2f: "..", "." or an empty segment could climb out of
    # /api/v1/auth/ (to /internal/*) once the URL is normalised on the way to auth.
    segments = rest.split("/")
    if any(segment in ("", ".", "..") or "\\" in segment for segment in segments):
        raise ApiError(404, "not_found", "no such auth endpoint")
    path = "/api/v1/auth/" + quote(rest, safe="/")
    if oauth_browser.is_browser_callback(request, rest):  # the provider sent the web app back
        return oauth_browser.finish(request, rest, path, _forward)
    if browser_session.requested(request):  # the web app: refresh token in a cookie
        response = browser_session.relay(request, rest, path, _forward)
        if oauth_browser.is_start(rest):
            oauth_browser.bind_state(response, link="Authorization" in request.headers)
        return response
    return _forward(path)


@bp.get("/api/v1/me")
def me():
    return _forward("/api/v1/me")


def _forward(path: str, body: bytes | None = None) -> Response:
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body exceeds {MAX_BODY} bytes")
    session: requests.Session = current_app.extensions["chatlens.http"]
    base = current_app.config["CHATLENS_SETTINGS"].auth_url.rstrip("/")
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    headers[logs.HEADER] = logs.get_correlation_id() or ""
    # ProxyFix(x_for=1) already made remote_addr the address nginx saw: the real client.
    headers["X-Forwarded-For"] = request.remote_addr or ""
    query = request.query_string.decode("latin-1")
    url = base + path + (f"?{query}" if query else "")
    if body is None:
        body = request.get_data()
    else:  # a body the gateway wrote (browser_session): JSON, whatever the client sent
        headers["Content-Type"] = "application/json"
    if len(body) > MAX_BODY:  # a chunked body has no Content-Length to check beforehand
        raise ApiError(413, "body_too_large", f"the body exceeds {MAX_BODY} bytes")
    # Auth drops the request unworked if it is still queued when we stop waiting (a sign-in
    # storm would otherwise hash passwords for clients long gone: web.init_deadline).
    headers.update(deadline_header(AUTH_TIMEOUT_S))
    try:
        with server_timing("auth"):
            upstream = session.request(
                request.method,
                url,
                data=body,
                headers=headers,
                timeout=AUTH_TIMEOUT_S,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        raise ApiError(503, "auth_unavailable", f"the auth service did not answer: {exc}") from None
    response = Response(upstream.content, status=upstream.status_code)
    for name in RETURNED_HEADERS:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response
