"""The web app's session against the REAL auth service: the refresh token travels only in an
HttpOnly, Secure, SameSite=Strict cookie on the refresh path, rotates on every refresh, dies on
re-use and logout, and a request from another site cannot spend it. API clients that do not ask
for the cookie get auth's JSON pair exactly as before."""

import uuid

from chatlens.gateway.api.browser_session import COOKIE, COOKIE_PATH

from .test_with_real_auth import PASSWORD, bearer, database_url, real_auth, settings  # noqa: F401

SITE = "http://localhost"  # what the test client's requests say their host is
BROWSER = {"X-Chatlens-Session": "cookie", "Origin": SITE}


def register(client):
    email = f"web-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return email


def browser_login(client, email):
    response = client.post(
        "/api/v1/auth/login", headers=BROWSER, json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.json
    return response


def refresh_cookie(client):
    return client.get_cookie(COOKIE, path=COOKIE_PATH)


def test_login_puts_the_refresh_token_in_a_cookie_scripts_cannot_read(client):
    response = browser_login(client, register(client))
    assert "refresh_token" not in response.json
    assert set(response.json) == {"access_token", "token_type", "expires_in"}
    header = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", f"Path={COOKIE_PATH}"):
        assert attribute in header, header
    assert response.headers["Cache-Control"] == "no-store"
    me = client.get("/api/v1/me", headers=bearer(response.json["access_token"]))
    assert me.status_code == 200


def test_refresh_spends_the_cookie_and_rotates_it(client):
    browser_login(client, register(client))
    first = refresh_cookie(client).value
    response = client.post("/api/v1/auth/refresh", headers=BROWSER)
    assert response.status_code == 200, response.json
    assert "refresh_token" not in response.json and response.json["access_token"]
    second = refresh_cookie(client).value
    assert second != first
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200


def test_a_reused_refresh_token_ends_the_family_and_clears_the_cookie(client):
    browser_login(client, register(client))
    spent = refresh_cookie(client).value
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200
    current = refresh_cookie(client).value
    client.set_cookie(COOKIE, spent, path=COOKIE_PATH)  # a stolen, already spent token
    reused = client.post("/api/v1/auth/refresh", headers=BROWSER)
    assert reused.status_code == 401 and reused.json["error"]["code"] == "token_reused"
    assert refresh_cookie(client) is None
    # Re-use revoked the whole family: the token the real tab holds is dead too.
    client.set_cookie(COOKIE, current, path=COOKIE_PATH)
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 401


def test_logout_clears_the_cookie_and_ends_the_session(client):
    token = browser_login(client, register(client)).json["access_token"]
    old = refresh_cookie(client).value
    response = client.post("/api/v1/auth/logout", headers={**BROWSER, **bearer(token)})
    assert response.status_code == 204
    assert refresh_cookie(client) is None
    client.set_cookie(COOKIE, old, path=COOKIE_PATH)
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 401


def test_another_site_cannot_spend_the_cookie(client):
    browser_login(client, register(client))
    before = refresh_cookie(client).value
    for headers in (
        {"X-Chatlens-Session": "cookie", "Origin": "https://evil.example"},
        {"X-Chatlens-Session": "cookie", "Sec-Fetch-Site": "cross-site"},
        {"X-Chatlens-Session": "cookie"},
    ):
        response = client.post("/api/v1/auth/refresh", headers=headers)
        assert response.status_code == 403, headers
        assert response.json["error"]["code"] == "cross_origin"
    # Without the header the cookie is not even looked at: auth wants a token in the body.
    assert client.post("/api/v1/auth/refresh", json={}).status_code in (400, 422)
    assert refresh_cookie(client).value == before  # nothing was spent
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200


def test_a_same_origin_fetch_without_origin_passes_on_fetch_metadata(client):
    browser_login(client, register(client))
    headers = {"X-Chatlens-Session": "cookie", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/auth/refresh", headers=headers).status_code == 200


def test_refresh_without_a_cookie_asks_to_sign_in(client):
    response = client.post("/api/v1/auth/refresh", headers=BROWSER)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "not_signed_in"


def test_api_clients_keep_the_json_pair_and_get_no_cookie(client):
    email = register(client)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200 and response.json["refresh_token"]
    assert "Set-Cookie" not in response.headers
    pair = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": response.json["refresh_token"]}
    )
    assert pair.status_code == 200 and pair.json["refresh_token"]


def api_login(client, email):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def test_a_refresh_naming_another_org_switches_to_it_through_the_cookie(client):
    member, owner = register(client), register(client)
    owner_token = api_login(client, owner)
    owner_org = client.get("/api/v1/me", headers=bearer(owner_token)).json["org"]["id"]
    invited = client.post(
        "/api/v1/auth/invitations",
        headers=bearer(owner_token),
        json={"email": member, "role": "viewer"},
    )
    assert invited.status_code == 201, invited.json
    own = browser_login(client, member).json["access_token"]
    accepted = client.post(
        "/api/v1/auth/invitations/accept",
        headers=bearer(own),
        json={"token": invited.json["token"]},
    )
    assert accepted.status_code == 200, accepted.json
    before = refresh_cookie(client).value

    switched = client.post("/api/v1/auth/refresh", headers=BROWSER, json={"org_id": owner_org})
    assert switched.status_code == 200, switched.json
    assert "refresh_token" not in switched.json
    me = client.get("/api/v1/me", headers=bearer(switched.json["access_token"])).json
    assert (me["org"]["id"], me["org"]["role"]) == (owner_org, "viewer")
    assert refresh_cookie(client).value != before  # rotated, as by a refresh
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200


def test_a_switch_to_an_org_not_yours_is_refused_and_spends_nothing(client):
    browser_login(client, register(client))
    stranger_token = api_login(client, register(client))
    stranger_org = client.get("/api/v1/me", headers=bearer(stranger_token)).json["org"]["id"]
    refused = client.post("/api/v1/auth/refresh", headers=BROWSER, json={"org_id": stranger_org})
    assert refused.status_code == 404, refused.json
    bad = client.post("/api/v1/auth/refresh", headers=BROWSER, json={"org_id": ["x"]})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_request"
    # Neither spent the cookie's token: it still refreshes.
    assert client.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200
