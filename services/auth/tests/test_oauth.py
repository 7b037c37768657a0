"""OAuth login against a local OAuth 2.0 / OIDC-style provider on loopback, built for the tests
(``chatlens.shared.oauth_test_provider``): state, PKCE (S256), exact redirect URIs, identities
by subject, linking only after sign-in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests
from sqlalchemy import update

from chatlens.auth.tables import OAuthState
from chatlens.shared.oauth_test_provider import CLIENT_ID, CLIENT_SECRET, serve

PASSWORD = "correct horse battery staple"
PUBLIC_URL = "http://chatlens.test"


@pytest.fixture(scope="module")
def provider():
    with serve(PUBLIC_URL) as fake:
        yield fake


@pytest.fixture
def oauth_app(make_app, provider):
    return make_app(public_url=PUBLIC_URL, **provider.settings())


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
    oauth_app, provider, name
):
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

    tokens = client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    ).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    linked = _callback(client, _authorize(client, headers=bearer))
    assert linked.json == {"linked": "google"}
    signed_in = _callback(client, _authorize(client))
    assert signed_in.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {signed_in.json['access_token']}"}
    )
    assert me.json["email"] == "ada@example.com"


def test_an_unverified_email_makes_no_account(oauth_app, provider):
    client = oauth_app.test_client()
    provider.user = {"sub": "google-x", "email": "x@example.com", "email_verified": False}
    response = _callback(client, _authorize(client))
    assert response.status_code == 400 and response.json["error"]["code"] == "oauth_failed"


def test_the_configured_providers_are_listed_for_the_sign_in_page(oauth_app, make_app, client):
    listed = oauth_app.test_client().get("/api/v1/auth/oauth/providers")
    assert listed.status_code == 200
    assert listed.json == {
        "providers": [
            {"name": "github", "label": "GitHub", "start_url": "/api/v1/auth/oauth/github/start"},
            {"name": "google", "label": "Google", "start_url": "/api/v1/auth/oauth/google/start"},
        ]
    }
    assert client.get("/api/v1/auth/oauth/providers").json == {"providers": []}  # none set up
    github_only = make_app(
        oauth_github_client_id=CLIENT_ID,
        oauth_github_client_secret=CLIENT_SECRET,
        oauth_google_client_id=CLIENT_ID,
    )  # google lacks its secret
    names = [
        p["name"]
        for p in github_only.test_client().get("/api/v1/auth/oauth/providers").json["providers"]
    ]
    assert names == ["github"]


def test_unconfigured_providers_and_bad_callbacks_are_clean_4xx(oauth_app, client):
    assert client.get("/api/v1/auth/oauth/google/start").status_code == 404  # not configured
    test_client = oauth_app.test_client()
    assert test_client.get("/api/v1/auth/oauth/myspace/start").status_code == 404
    for query in ["", "code=a", "state=b", "error=access_denied", f"code={'c' * 5000}&state=s"]:
        response = test_client.get(f"/api/v1/auth/oauth/google/callback?{query}")
        assert response.status_code == 400, query


def test_linked_providers_are_listed_and_unlinked_with_the_password(oauth_app, provider):
    client = oauth_app.test_client()
    client.post("/api/v1/auth/register", json={"email": "lin@example.com", "password": PASSWORD})
    tokens = client.post(
        "/api/v1/auth/login", json={"email": "lin@example.com", "password": PASSWORD}
    ).json
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/oauth/identities", headers=bearer).json == {"identities": []}
    provider.user = {"sub": "google-lin", "email": "lin@example.com", "email_verified": True}
    assert _callback(client, _authorize(client, headers=bearer)).json == {"linked": "google"}

    [identity] = client.get("/api/v1/auth/oauth/identities", headers=bearer).json["identities"]
    assert identity["provider"] == "google" and identity["label"] == "Google"
    assert identity["email"] == "lin@example.com" and identity["linked_at"]

    def unlink(name, password):
        return client.post(
            f"/api/v1/auth/oauth/identities/{name}/unlink",
            json={"password": password},
            headers=bearer,
        )

    wrong = unlink("google", "not the password")
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_credentials"
    assert len(client.get("/api/v1/auth/oauth/identities", headers=bearer).json["identities"]) == 1
    missing = unlink("github", PASSWORD)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert unlink("google", PASSWORD).status_code == 204
    assert client.get("/api/v1/auth/oauth/identities", headers=bearer).json == {"identities": []}
    # The provider account no longer signs in as this user; it is refused (the email is taken).
    refused = _callback(client, _authorize(client))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "link_required"
    assert unlink("google", PASSWORD).status_code == 404
    anonymous = client.get("/api/v1/auth/oauth/identities")
    assert anonymous.status_code == 401
