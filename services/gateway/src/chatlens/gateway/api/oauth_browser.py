"""OAuth sign-in for the web app: the provider sends the browser back to the gateway, which keeps
the refresh token in the session cookie and sends the browser on to the app.

API clients get auth's JSON from ``/api/v1/auth/oauth/{name}/callback`` unchanged. The web app
starts a sign-in in cookie mode (``browser_session``); the gateway then binds the flow's ``state``
to this browser in a short-lived HttpOnly cookie (SameSite=Lax: the provider's redirect back is a
cross-site navigation, which a Strict cookie would miss). A callback that carries that cookie is
the browser's: its ``state`` must equal the cookie's, or a callback URL an attacker made with his
own code would sign the victim in as him (login CSRF; auth's state alone is not tied to a
browser). Then the pair goes into the refresh cookie and the browser is redirected to the app
(``/collections``; ``/account`` after linking a provider; ``/login?oauth_error=...`` on a refusal,
``/account?oauth_error=...`` when a link was refused: the user is still signed in there),
where the page's usual silent refresh signs it in.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import parse_qs, urlencode, urlparse

from flask import Request, Response

from chatlens.gateway.api import browser_session

COOKIE = "chatlens_oauth"
COOKIE_PATH = "/api/v1/auth/oauth"
COOKIE_MAX_AGE_S = 600  # auth's state lives 10 minutes
START = re.compile(r"^oauth/[a-z0-9]+/start$")
CALLBACK = re.compile(r"^oauth/[a-z0-9]+/callback$")
SIGNED_IN, LINKED, REFUSED = "/collections", "/account?linked={name}", "/login?{query}"
LINK_REFUSED = "/account?{query}"
LINK_MARK = "link:"  # the state cookie's prefix when the flow links a provider to a signed-in user


def is_start(rest: str) -> bool:
    return START.fullmatch(rest) is not None


def is_browser_callback(request: Request, rest: str) -> bool:
    """A callback in a browser that started the flow in cookie mode (it holds the state cookie)."""
    return CALLBACK.fullmatch(rest) is not None and COOKIE in request.cookies


def bind_state(response: Response, link: bool) -> None:
    """Remember the started flow's state in this browser (a cookie only the callback receives),
    and whether it links a provider (so a refusal goes back to the account page)."""
    if response.status_code != 200 or not response.is_json:
        return
    payload = response.get_json(silent=True)
    url = payload.get("authorization_url") if isinstance(payload, dict) else None
    state = parse_qs(urlparse(url).query).get("state", [""])[0] if isinstance(url, str) else ""
    if state:
        response.set_cookie(
            COOKIE,
            (LINK_MARK if link else "") + state,
            max_age=COOKIE_MAX_AGE_S,
            path=COOKIE_PATH,
            secure=True,
            httponly=True,
            samesite="Lax",
        )


def finish(request: Request, rest: str, path: str, forward: browser_session.Forward) -> Response:
    """Complete the browser's callback through auth, then redirect it into the app."""
    name = rest.split("/")[1]
    state = request.args.get("state", "")
    bound = request.cookies.get(COOKIE, "")
    link = bound.startswith(LINK_MARK)
    if not state or not hmac.compare_digest(state, bound.removeprefix(LINK_MARK)):
        return _leave(_refused("the sign-in did not start in this browser: try again", link))
    upstream = forward(path, None)
    payload = upstream.get_json(silent=True) if upstream.is_json else None
    if upstream.status_code == 200 and isinstance(payload, dict) and "refresh_token" in payload:
        response = _leave(_redirect(SIGNED_IN))
        browser_session.set_cookie(response, payload["refresh_token"])
        return response
    if upstream.status_code == 200 and isinstance(payload, dict) and "linked" in payload:
        return _leave(_redirect(LINKED.format(name=name)))
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return _leave(
        _refused(
            message if isinstance(message, str) else f"the sign-in failed ({upstream.status_code})",
            link,
        )
    )


def _refused(message: str, link: bool) -> Response:
    query = urlencode({"oauth_error": message[:300]})
    return _redirect((LINK_REFUSED if link else REFUSED).format(query=query))


def _redirect(location: str) -> Response:
    """303: the browser GETs the app's page (a same-site path: never a URL a request named)."""
    return Response(status=303, headers={"Location": location})


def _leave(response: Response) -> Response:
    """The state cookie is spent either way; nothing here may be cached."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="Lax")
    response.headers["Cache-Control"] = "no-store"
    return response
