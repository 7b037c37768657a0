"""A small OAuth 2.0 / OIDC-style provider for tests, on a loopback port: an authorization
endpoint that approves ``user`` at once, a token endpoint that checks the client's credentials,
PKCE (S256) and the exact redirect URI, and a userinfo endpoint (with GitHub's ``/emails``).
:func:`serve` starts one for a test; auth's and the gateway's OAuth tests sign in through it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

CLIENT_ID, CLIENT_SECRET = "chatlens-test", "s3cret-for-tests"
PROVIDERS = ("google", "github")


class FakeProvider:
    """The provider; ``user`` is who the next authorization approves (a test may change it)."""

    def __init__(self, public_url: str) -> None:
        self.user: dict[str, Any] = {
            "sub": "google-1",
            "email": "ada@example.com",
            "email_verified": True,
        }
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.allowed_redirects = {f"{public_url}/api/v1/auth/oauth/{p}/callback" for p in PROVIDERS}
        app = Flask("fake-provider")
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/userinfo", view_func=self.userinfo)
        app.add_url_rule("/userinfo/emails", view_func=self.emails)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def settings(self, names: Iterable[str] = PROVIDERS) -> dict[str, str]:
        """Auth's settings that point ``names`` at this provider."""
        found = {}
        for name in names:
            found.update(
                {
                    f"oauth_{name}_client_id": CLIENT_ID,
                    f"oauth_{name}_client_secret": CLIENT_SECRET,
                    f"oauth_{name}_authorize_url": f"{self.url}/authorize",
                    f"oauth_{name}_token_url": f"{self.url}/token",
                    f"oauth_{name}_userinfo_url": f"{self.url}/userinfo",
                }
            )
        return found

    def authorize(self) -> Any:
        args = request.args
        if (
            args.get("client_id") != CLIENT_ID
            or args.get("response_type") != "code"
            or args.get("redirect_uri") not in self.allowed_redirects
            or args.get("code_challenge_method") != "S256"
            or not args.get("code_challenge")
            or not args.get("state")
        ):
            return jsonify(error="invalid_request"), 400
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": args["code_challenge"],
            "redirect": args["redirect_uri"],
            "user": dict(self.user),
        }
        query = urlencode({"code": code, "state": args["state"]})
        return redirect(f"{args['redirect_uri']}?{query}")

    def token(self) -> Any:
        form = request.form
        auth = request.authorization
        client = (
            (auth.username, auth.password)
            if auth
            else (form.get("client_id"), form.get("client_secret"))
        )
        grant = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            client != (CLIENT_ID, CLIENT_SECRET)
            or grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect"]
            or challenge.rstrip(b"=").decode() != grant["challenge"]
        ):
            return jsonify(error="invalid_grant"), 400
        token = secrets.token_urlsafe(16)
        self.tokens[token] = grant["user"]
        return jsonify(access_token=token, token_type="Bearer", expires_in=3600)

    def _user(self) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme == "Bearer" else None

    def userinfo(self) -> Any:
        user = self._user()
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify({**user, "id": user["sub"]})

    def emails(self) -> Any:
        user = self._user()
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(
            [{"email": user["email"], "primary": True, "verified": user["email_verified"]}]
        )


@contextmanager
def serve(public_url: str) -> Iterator[FakeProvider]:
    """A running provider that redirects to ``public_url``'s callbacks; stopped on exit."""
    provider = FakeProvider(public_url)
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
