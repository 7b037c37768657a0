"""OAuth login against a local OAuth 2.0 / OIDC-style provider on loopback, built for the tests:
state, PKCE (S256), exact redirect URIs, identities by subject, linking only after sign-in."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests
from flask import Flask, jsonify, redirect, request
from sqlalchemy import update
from werkzeug.serving import make_server

from chatlens.auth.tables import OAuthState

PASSWORD = "correct horse battery staple"
CLIENT_ID, CLIENT_SECRET = "chatlens-test", "s3cret-for-tests"
PUBLIC_URL = "http://chatlens.test"


class FakeProvider:
    """Authorization endpoint (auto-approves ``self.user``), token endpoint checking PKCE,
    client credentials and the exact redirect URI, and a userinfo endpoint."""

    def __init__(self) -> None:
        self.user = {"sub": "google-1", "email": "ada@example.com", "email_verified": True}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.allowed_redirects = {f"{PUBLIC_URL}/api/v1/auth/oauth/{p}/callback"
                                  for p in ("google", "github")}
        app = Flask("fake-provider")
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/userinfo", view_func=self.userinfo)
        app.add_url_rule("/userinfo/emails", view_func=self.emails)
        self.server = make_server("127.0.0.1", 0, app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def authorize(self):
        args = request.args
        if (args.get("client_id") != CLIENT_ID or args.get("response_type") != "code"
                or args.get("redirect_uri") not in self.allowed_redirects
                or args.get("code_challenge_method") != "S256" or not args.get("code_challenge")
                or not args.get("state")):
            return jsonify(error="invalid_request"), 400
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": args["code_challenge"], "redirect": args["redirect_uri"],
                            "user": dict(self.user)}
        query = urlencode({"code": code, "state": args["state"]})
        return redirect(f"{args['redirect_uri']}?{query}")

    def token(self):
        form = request.form
        auth = request.authorization
        client = (auth.username, auth.password) if auth else (form.get("client_id"),
                                                              form.get("client_secret"))
        grant = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (client != (CLIENT_ID, CLIENT_SECRET) or grant is None
                or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant["redirect"]
                or challenge.rstrip(b"=").decode() != grant["challenge"]):
            return jsonify(error="invalid_grant"), 400
        token = secrets.token_urlsafe(16)
        self.tokens[token] = grant["user"]
        return jsonify(access_token=token, token_type="Bearer", expires_in=3600)

    def _user(self):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token) if scheme == "Bearer" else None

    def userinfo(self):
        user = self._user()
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify({**user, "id": user["sub"]})

    def emails(self):
        user = self._user()
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify([{"email": user["email"], "primary": True,
                         "verified": user["email_verified"]}])


@pytest.fixture(scope="module")
def provider():
    fake = FakeProvider()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def oauth_app(make_app, provider):
    endpoints = {}
    for name in ("google", "github"):
        endpoints.update({
            f"oauth_{name}_client_id": CLIENT_ID, f"oauth_{name}_client_secret": CLIENT_SECRET,
            f"oauth_{name}_authorize_url": f"{provider.url}/authorize",
            f"oauth_{name}_token_url": f"{provider.url}/token",
            f"oauth_{name}_userinfo_url": f"{provider.url}/userinfo",
        })
    return make_app(public_url=PUBLIC_URL, **endpoints)


def _authorize(client, name="google", headers=None) -> dict:
    """Start, follow the provider's authorization URL; the callback's query (code, state)."""
    started = client.get(f"/api/v1/auth/oauth/{name}/start", headers=headers or {})
    assert started.status_code == 200, started.json
    url = started.json["authorization_url"]
    query = parse_qs(urlparse(url).query)
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/api/v1/auth/oauth/{name}/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["Location"])
    assert f"{PUBLIC_URL}{location.path}" == query["redirect_uri"][0]
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _callback(client, params: dict, name="google"):
    return client.get(f"/api/v1/auth/oauth/{name}/callback?{urlencode(params)}")


@pytest.mark.parametrize("name", ["google", "github"])
def test_a_new_user_signs_up_through_a_provider_and_comes_back_as_the_same_user(
        oauth_app, provider, name):
    client = oauth_app.test_client()
    provider.user = {"sub": f"{name}-42", "email": "new@example.com", "email_verified": True}
    first = _callback(client, _authorize(client, name), name)
    assert first.status_code == 200, first.json
    again = _callback(client, _authorize(client, name), name)
    sub = jwt.decode(first.json["access_token"], options={"verify_signature": False})["sub"]
    assert jwt.decode(again.json["access_token"], options={"verify_signature": False})["sub"] == sub
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {again.json['access_token']}"})
    assert me.json["email"] == "new@example.com" and me.json["org"]["role"] == "owner"


def test_a_forged_replayed_or_expired_state_is_refused(oauth_app, provider, runtime):
    client = oauth_app.test_client()
    provider.user = {"sub": "g-7", "email": "s@example.com", "email_verified": True}
    params = _authorize(client)
    assert _callback(client, {**params, "state": "forged"}).json["error"]["code"] == "invalid_state"
    assert _callback(client, params).status_code == 200
    assert _callback(client, params).json["error"]["code"] == "invalid_state"  # replay
    late = _authorize(client)
    with oauth_app.extensions["chatlens.auth"].sessions() as session:
        session.execute(update(OAuthState).values(expires_at=OAuthState.created_at))
        session.commit()
    assert _callback(client, late).json["error"]["code"] == "invalid_state"
    other = _authorize(client, "github")
    assert _callback(client, other, "google").json["error"]["code"] == "invalid_state"


def test_a_wrong_pkce_verifier_or_stolen_code_fails_the_exchange(oauth_app, provider):
    client = oauth_app.test_client()
    params = _authorize(client)
    with oauth_app.extensions["chatlens.auth"].sessions() as session:
        session.execute(update(OAuthState).values(code_verifier="x" * 64))
        session.commit()
    refused = _callback(client, params)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "oauth_failed"
    # A code used with someone else's state is refused by PKCE too.
    stolen = _authorize(client)
    mine = _authorize(client)
    crossed = _callback(client, {"code": stolen["code"], "state": mine["state"]})
    assert crossed.json["error"]["code"] == "oauth_failed"


def test_an_existing_email_is_never_linked_without_signing_in_first(oauth_app, provider):
    client = oauth_app.test_client()
    client.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
    provider.user = {"sub": "google-ada", "email": "ada@example.com", "email_verified": True}
    refused = _callback(client, _authorize(client))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "link_required"

    tokens = client.post("/api/v1/auth/login",
                         json={"email": "ada@example.com", "password": PASSWORD}).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    linked = _callback(client, _authorize(client, headers=bearer))
    assert linked.json == {"linked": "google"}
    signed_in = _callback(client, _authorize(client))
    assert signed_in.status_code == 200
    me = client.get("/api/v1/me",
                    headers={"Authorization": f"Bearer {signed_in.json['access_token']}"})
    assert me.json["email"] == "ada@example.com"


def test_an_unverified_email_makes_no_account(oauth_app, provider):
    client = oauth_app.test_client()
    provider.user = {"sub": "google-x", "email": "x@example.com", "email_verified": False}
    response = _callback(client, _authorize(client))
    assert response.status_code == 400 and response.json["error"]["code"] == "oauth_failed"


def test_unconfigured_providers_and_bad_callbacks_are_clean_4xx(oauth_app, client):
    assert client.get("/api/v1/auth/oauth/google/start").status_code == 404  # not configured
    test_client = oauth_app.test_client()
    assert test_client.get("/api/v1/auth/oauth/myspace/start").status_code == 404
    for query in ["", "code=a", "state=b", "error=access_denied", f"code={'c' * 5000}&state=s"]:
        response = test_client.get(f"/api/v1/auth/oauth/google/callback?{query}")
        assert response.status_code == 400, query
