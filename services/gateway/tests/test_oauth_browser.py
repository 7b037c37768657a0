"""OAuth sign-in in the web app, through the REAL auth service and a local OAuth provider
(``chatlens.shared.oauth_test_provider``): the page starts the flow in cookie mode, the provider
sends the browser back to the gateway's callback, and the browser ends up on the app with the
refresh token in its HttpOnly cookie, never in a page. The flow's state is bound to the browser
that started it, so a callback URL made by someone else signs nobody in."""

import threading
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from werkzeug.serving import make_server

from chatlens.auth.app import create_app as create_auth_app
from chatlens.auth.config import AuthSettings
from chatlens.gateway.api.browser_session import COOKIE, COOKIE_PATH
from chatlens.gateway.api.oauth_browser import COOKIE as STATE_COOKIE
from chatlens.gateway.api.oauth_browser import COOKIE_PATH as STATE_PATH
from chatlens.shared.oauth_test_provider import serve

SITE = "http://localhost"  # what the test client's requests say their host is
START = {"X-Chatlens-Session": "cookie", "Sec-Fetch-Site": "same-origin"}  # the page's fetch


@pytest.fixture(scope="module")
def provider():
    with serve(SITE) as fake:
        yield fake


@pytest.fixture(scope="module")
def oauth_auth(tmp_path_factory, provider):
    folder = tmp_path_factory.mktemp("auth")
    settings = AuthSettings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'auth.db'}",
        public_url=SITE,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        **provider.settings(),
    )
    server = make_server("127.0.0.1", 0, create_auth_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings, oauth_auth):
    return settings.model_copy(update={"auth_url": oauth_auth, "jwks_url": None})


def start(client, name="github"):
    """The page's start in cookie mode: the provider's URL, and the state cookie it set."""
    response = client.get(f"/api/v1/auth/oauth/{name}/start", headers=START)
    assert response.status_code == 200, response.json
    header = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", f"Path={STATE_PATH}"):
        assert attribute in header, header
    return response.json["authorization_url"]


def at_provider(url):
    """The provider approves and sends the browser back: the callback's path and query."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == SITE
    return f"{location.path}?{location.query}"


def test_the_providers_are_listed_for_the_sign_in_page(client):
    listed = client.get("/api/v1/auth/oauth/providers")
    assert listed.status_code == 200
    assert [p["start_url"] for p in listed.json["providers"]] == [
        "/api/v1/auth/oauth/github/start",
        "/api/v1/auth/oauth/google/start",
    ]


def test_the_browser_comes_back_signed_in_with_the_token_in_its_cookie(client, provider):
    email = f"oauth-{uuid.uuid4().hex[:8]}@example.com"
    provider.user = {"sub": f"gh-{email}", "email": email, "email_verified": True}
    back = client.get(at_provider(start(client)))
    assert back.status_code == 303 and back.headers["Location"] == "/collections"
    assert back.headers["Cache-Control"] == "no-store"
    assert "refresh_token" not in back.get_data(as_text=True)
    assert client.get_cookie(STATE_COOKIE, path=STATE_PATH) is None  # spent
    assert client.get_cookie(COOKIE, path=COOKIE_PATH) is not None
    # The app's silent refresh on load spends the cookie: the user is signed in.
    refreshed = client.post("/api/v1/auth/refresh", headers={**START, "Origin": SITE})
    assert refreshed.status_code == 200, refreshed.json
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {refreshed.json['access_token']}"}
    )
    assert me.json["email"] == email


def test_a_callback_made_for_another_browser_signs_nobody_in(client, provider):
    provider.user = {"sub": "gh-attacker", "email": "attacker@example.com", "email_verified": True}
    attackers = at_provider(start(client.application.test_client()))  # his own browser
    start(client)  # the victim started a sign-in of her own
    back = client.get(attackers)
    assert back.status_code == 303
    location = urlparse(back.headers["Location"])
    assert location.path == "/login"
    assert "did not start in this browser" in parse_qs(location.query)["oauth_error"][0]
    assert client.get_cookie(COOKIE, path=COOKIE_PATH) is None


def test_a_sign_in_cancelled_at_the_provider_goes_back_to_the_login_page_with_why(client):
    url = start(client)
    state = parse_qs(urlparse(url).query)["state"][0]
    back = client.get(f"/api/v1/auth/oauth/github/callback?error=access_denied&state={state}")
    assert back.status_code == 303
    query = parse_qs(urlparse(back.headers["Location"]).query)
    assert query["oauth_error"] == ["the sign-in was cancelled at the provider"]
    assert client.get_cookie(COOKIE, path=COOKIE_PATH) is None


def test_api_clients_still_get_the_json_pair_from_the_callback(client, provider):
    provider.user = {"sub": "gh-script", "email": "script@example.com", "email_verified": True}
    url = client.get("/api/v1/auth/oauth/github/start").json["authorization_url"]
    back = client.get(at_provider(url))  # no state cookie: not a browser that started here
    assert back.status_code == 200 and back.json["refresh_token"]
    assert client.get_cookie(COOKIE, path=COOKIE_PATH) is None


def test_a_refused_link_goes_back_to_the_account_page_signed_in_with_why(client, provider):
    email = f"linker-{uuid.uuid4().hex[:8]}@example.com"
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    # The provider account already signs in as someone else: linking it here is refused.
    provider.user = {"sub": f"gh-{owner}", "email": owner, "email_verified": True}
    other = client.application.test_client()
    url = other.get("/api/v1/auth/oauth/github/start").json["authorization_url"]
    assert other.get(at_provider(url)).status_code == 200
    password = "a long and uncommon passphrase 7"
    assert (
        client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        ).status_code
        == 201
    )
    token = client.post("/api/v1/auth/login", json={"email": email, "password": password}).json[
        "access_token"
    ]
    linking = client.get(
        "/api/v1/auth/oauth/github/start", headers={**START, "Authorization": f"Bearer {token}"}
    )
    assert linking.status_code == 200
    back = client.get(at_provider(linking.json["authorization_url"]))
    assert back.status_code == 303
    location = urlparse(back.headers["Location"])
    assert location.path == "/account"
    assert "linked to another user" in parse_qs(location.query)["oauth_error"][0]
    assert client.get_cookie(STATE_COOKIE, path=STATE_PATH) is None
    # A sign-in's refusal still goes to the login page.
    url = start(client)
    state = parse_qs(urlparse(url).query)["state"][0]
    back = client.get(f"/api/v1/auth/oauth/github/callback?error=access_denied&state={state}")
    assert urlparse(back.headers["Location"]).path == "/login"
