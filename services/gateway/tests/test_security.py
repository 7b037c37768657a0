"""Permissions, the revocation feed, API keys and the auth proxy, against a loopback fake of auth
(its JWKS, its signed feed and its key check: see ``FakeAuth`` in conftest)."""

import hashlib
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chatlens.gateway.app import create_app

from .conftest import INTERNAL_TOKEN, WHATSAPP
from .test_api import create_collection, upload

SEARCH = {"query": "lisbon"}


def search(client, headers, collection_id):
    return client.post(f"/api/v1/collections/{collection_id}/search", json=SEARCH, headers=headers)


def eventually(check, within_s):
    """Polls ``check`` until it is true; fails after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, f"not true within {within_s} s"
        time.sleep(0.05)


@pytest.fixture
def make_app(settings):
    apps = []

    def make(**overrides):
        app = create_app(settings.model_copy(update=overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["chatlens.bus"].close()
        app.extensions["chatlens.engine"].dispose()


# --- permissions ---------------------------------------------------------------------------------


def test_a_viewer_reads_and_searches_but_cannot_write_or_upload(client, auth):
    collection_id = create_collection(client, auth(role="analyst"))
    viewer = auth(role="viewer")
    assert client.get("/api/v1/collections", headers=viewer).status_code == 200
    assert client.get(f"/api/v1/collections/{collection_id}", headers=viewer).status_code == 200
    assert (
        client.get(f"/api/v1/collections/{collection_id}/jobs", headers=viewer).status_code == 200
    )
    assert search(client, viewer, collection_id).status_code == 200
    refused = [
        client.post("/api/v1/collections", json={"name": "x"}, headers=viewer),
        upload(client, viewer, collection_id, [("a.txt", WHATSAPP.encode())]),
        client.delete(f"/api/v1/collections/{collection_id}", headers=viewer),
        client.post(f"/api/v1/collections/{collection_id}/versions/1/restore", headers=viewer),
    ]
    for response in refused:
        assert response.status_code == 403, response.json
        assert response.json["error"]["code"] == "forbidden"


def test_an_analyst_creates_uploads_and_searches(client, auth):
    analyst = auth(role="analyst")
    collection_id = create_collection(client, analyst)
    response = upload(client, analyst, collection_id, [("a.txt", WHATSAPP.encode())])
    assert response.status_code == 202, response.json
    assert search(client, analyst, collection_id).status_code == 200


def test_permissions_come_from_the_token_not_the_role(client, auth):
    # An owner's token that lost uploads:create (auth changed the table) cannot upload.
    headers = auth(role="owner", perms=["collections:read", "collections:write"])
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())])
    assert response.status_code == 403


@pytest.mark.parametrize("claim", ["perms", "sid", "org", "role", "typ", "iat"])
def test_an_access_token_without_a_required_claim_is_refused(client, make_token, claim):
    headers = {"Authorization": f"Bearer {make_token(**{claim: None})}"}
    response = client.get("/api/v1/collections", headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    "overrides",
    [{"perms": "collections:read"}, {"perms": [1]}, {"sid": ""}, {"sid": 7}, {"org": ""}],
)
def test_malformed_claims_are_refused(client, make_token, overrides):
    headers = {"Authorization": f"Bearer {make_token(**overrides)}"}
    assert client.get("/api/v1/collections", headers=headers).status_code == 401


# --- the revocation feed -----------------------------------------------------------------------


def test_a_revoked_session_is_refused_within_the_refresh_interval(
    app, client, make_token, fake_auth
):
    refresh_s = app.config["CHATLENS_SETTINGS"].revocations_refresh_s
    ended = {"Authorization": f"Bearer {make_token(sid='session-1')}"}
    other = {"Authorization": f"Bearer {make_token(sid='session-2')}"}
    assert client.get("/api/v1/collections", headers=ended).status_code == 200
    fake_auth.revoked_sessions["session-1"] = int(time.time())
    eventually(
        lambda: client.get("/api/v1/collections", headers=ended).status_code == 401,
        within_s=refresh_s + 1,
    )
    response = client.get("/api/v1/collections", headers=ended)
    assert response.json["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/collections", headers=other).status_code == 200
    # The feed was fetched with the internal token.
    assert set(fake_auth.internal_tokens) == {INTERNAL_TOKEN}


def test_a_users_valid_after_ends_every_older_token(app, client, make_token, fake_auth):
    now = int(time.time())
    older = {"Authorization": f"Bearer {make_token(iat=now - 30)}"}
    other_user = {"Authorization": f"Bearer {make_token(user='user-b', iat=now - 30)}"}
    assert client.get("/api/v1/collections", headers=older).status_code == 200
    fake_auth.valid_after["user-a"] = now - 10
    eventually(
        lambda: client.get("/api/v1/collections", headers=older).status_code == 401,
        within_s=app.config["CHATLENS_SETTINGS"].revocations_refresh_s + 1,
    )
    newer = {"Authorization": f"Bearer {make_token(iat=now - 10)}"}
    assert client.get("/api/v1/collections", headers=newer).status_code == 200
    assert client.get("/api/v1/collections", headers=other_user).status_code == 200


def test_the_feed_is_fetched_at_most_once_per_interval(make_app, make_token, fake_auth):
    client = make_app(revocations_refresh_s=30).test_client()
    headers = {"Authorization": f"Bearer {make_token()}"}
    for _ in range(5):
        assert client.get("/api/v1/collections", headers=headers).status_code == 200
    assert fake_auth.calls["/internal/v1/revocations"] == 1


def test_without_a_feed_the_gateway_fails_closed(client, auth, fake_auth):
    fake_auth.down = True
    response = client.get("/api/v1/collections", headers=auth())
    assert response.status_code == 503 and response.json["error"]["code"] == "auth_unavailable"


def test_a_cached_feed_is_used_until_its_exp_then_the_gateway_fails_closed(
    make_app, auth, fake_auth
):
    client = make_app(revocations_refresh_s=0).test_client()
    fake_auth.feed_ttl = 2
    assert client.get("/api/v1/collections", headers=auth()).status_code == 200
    fake_auth.down = True
    assert client.get("/api/v1/collections", headers=auth()).status_code == 200  # cached copy
    eventually(
        lambda: client.get("/api/v1/collections", headers=auth()).status_code == 503, within_s=4
    )
    fake_auth.down = False
    assert client.get("/api/v1/collections", headers=auth()).status_code == 200


def test_no_request_waits_for_a_slow_auth_while_the_cached_feed_is_valid(make_app, auth, fake_auth):
    """A due fetch runs beside the requests: with auth taking 2 s to answer (a sign-in storm
    ahead in its queue), requests keep being answered at once with the cached copy, and the
    fetched copy is used once it arrives."""
    client = make_app(revocations_refresh_s=0.2).test_client()
    ended = auth(sid="slow-1")
    assert client.get("/api/v1/collections", headers=ended).status_code == 200
    fake_auth.slow_s = 2.0
    fake_auth.revoked_sessions["slow-1"] = int(time.time())
    time.sleep(0.3)  # the copy is due
    started = time.monotonic()
    for _ in range(5):
        assert client.get("/api/v1/collections", headers=auth()).status_code == 200
        time.sleep(0.1)
    assert time.monotonic() - started < 1.5  # 5 requests and 0.5 s of sleeps: no 2 s wait
    # The fetch that was under way lands, and with it the revocation.
    eventually(
        lambda: client.get("/api/v1/collections", headers=ended).status_code == 401, within_s=5
    )


@pytest.mark.parametrize("change", ["signer", "typ", "aud", "expired"])
def test_a_feed_that_fails_verification_is_not_trusted(client, auth, fake_auth, change):
    if change == "signer":
        fake_auth.feed_signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif change == "typ":
        fake_auth.feed_claims = {"typ": "access"}
    elif change == "aud":
        fake_auth.feed_claims = {"aud": "someone-else"}
    else:
        fake_auth.feed_ttl = -5
    response = client.get("/api/v1/collections", headers=auth())
    assert response.status_code == 503 and response.json["error"]["code"] == "auth_unavailable"


# --- API keys ------------------------------------------------------------------------------------


def api_key(fake_auth, scopes, org="org-a", key="clk_abc_secret"):
    fake_auth.api_keys[key] = {
        "key_id": "abc",
        "user_id": "user-k",
        "org_id": org,
        "scopes": scopes,
        "expires_at": "2099-01-01T00:00:00",
    }
    return {"Authorization": f"Bearer {key}"}


def test_an_api_key_with_search_read_searches_and_cannot_create(client, auth, fake_auth):
    collection_id = create_collection(client, auth())
    key = api_key(fake_auth, ["search:read"])
    assert search(client, key, collection_id).status_code == 200
    response = client.post("/api/v1/collections", json={"name": "x"}, headers=key)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/collections", headers=key).status_code == 403
    # Its org is the key's: another org's collection does not exist for it.
    other = api_key(fake_auth, ["search:read"], org="org-b", key="clk_def_secret")
    assert search(client, other, collection_id).status_code == 404
    assert set(fake_auth.internal_tokens) == {INTERNAL_TOKEN}


def test_an_accepted_key_is_cached_and_a_refused_one_is_not(app, client, auth, fake_auth):
    headers = {"Authorization": "Bearer clk_new_secret"}
    assert client.get("/api/v1/collections", headers=headers).status_code == 401
    api_key(fake_auth, ["collections:read"], key="clk_new_secret")
    for _ in range(3):
        assert client.get("/api/v1/collections", headers=headers).status_code == 200
    assert fake_auth.calls["/internal/v1/api-keys/verify"] == 2  # the 401, then one 200
    cache = app.extensions["chatlens.api_keys"]._cache
    assert list(cache) == [hashlib.sha256(b"clk_new_secret").hexdigest()]


def test_a_revoked_key_stops_working_when_its_cache_entry_expires(make_app, fake_auth):
    client = make_app(api_key_cache_s=0.3).test_client()
    headers = api_key(fake_auth, ["collections:read"])
    assert client.get("/api/v1/collections", headers=headers).status_code == 200
    fake_auth.api_keys.clear()
    eventually(
        lambda: client.get("/api/v1/collections", headers=headers).status_code == 401, within_s=1.5
    )
    response = client.get("/api/v1/collections", headers=headers)
    assert response.json["error"]["code"] == "invalid_api_key"


def test_api_keys_answer_503_when_auth_is_down(make_app, fake_auth):
    client = make_app(auth_url="http://127.0.0.1:9").test_client()  # nothing listens there
    response = client.get("/api/v1/collections", headers={"Authorization": "Bearer clk_a_b"})
    assert response.status_code == 503 and response.json["error"]["code"] == "auth_unavailable"
    fake_auth.down = True  # up but failing
    client = make_app().test_client()
    api_key(fake_auth, ["collections:read"])
    response = client.get("/api/v1/collections", headers={"Authorization": "Bearer clk_abc_secret"})
    assert response.status_code == 503 and response.json["error"]["code"] == "auth_unavailable"


# --- the auth proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/internal/v1/revocations",
        "/api/v1/internal/v1/revocations",
        "/api/v1/auth/../../../internal/v1/revocations",
        "/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/internal/v1/revocations",
        "/api/v1/auth/..%2f..%2f..%2finternal/v1/revocations",
        "/api/v1/auth/x/..//internal/v1/revocations",
        "/api/v1/auth/.%2finternal",
    ],
)
def test_the_proxy_never_reaches_internal_routes(client, fake_auth, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "/internal/v1/revocations" not in fake_auth.calls


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_the_proxy_forwards_methods_query_and_safe_headers_only(client, fake_auth, method):
    response = getattr(client, method)(
        "/api/v1/auth/members/u1?limit=5&event=login",
        data=b'{"role": "viewer"}',
        headers={
            "Authorization": "Bearer t",
            "Content-Type": "application/json",
            "X-Internal-Token": "stolen",
            "Cookie": "a=b",
            "X-Forwarded-For": "6.6.6.6",
        },
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    echoed = response.json
    assert echoed["method"] == method.upper()
    assert echoed["path"] == "/api/v1/auth/members/u1"
    assert echoed["query"] == "limit=5&event=login"
    headers = {k.lower(): v for k, v in echoed["headers"].items()}
    assert "x-internal-token" not in headers and "cookie" not in headers
    assert headers["authorization"] == "Bearer t"
    # ProxyFix trusts the one hop nginx adds: the last X-Forwarded-For entry is the client.
    assert headers["x-forwarded-for"] == "6.6.6.6"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Location"].endswith("/api/v1/auth/somewhere")
    assert "Set-Cookie" not in response.headers
    # auth's own timings stay inside; the gateway reports only its own steps
    assert "db;dur=1" not in response.headers["Server-Timing"]
    steps = [step.split(";")[0] for step in response.headers["Server-Timing"].split(", ")]
    assert steps == ["auth", "app"]


def test_the_forwarded_address_is_the_one_nginx_saw_not_a_spoofed_one(client, fake_auth):
    # nginx appends the peer to whatever the client sent: the client's own entries come first.
    response = client.get(
        "/api/v1/auth/sessions",
        headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    headers = {k.lower(): v for k, v in response.json["headers"].items()}
    assert headers["x-forwarded-for"] == "203.0.113.7"
    response = client.get("/api/v1/me", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    headers = {k.lower(): v for k, v in response.json["headers"].items()}
    assert headers["x-forwarded-for"] == "10.0.0.9"


# --- audit ---------------------------------------------------------------------------------------


def test_deleting_a_collection_is_recorded_in_auths_audit_log(client, auth, fake_auth):
    collection_id = create_collection(client, auth(), name="Board")
    assert client.delete(f"/api/v1/collections/{collection_id}", headers=auth()).status_code == 204
    assert fake_auth.audit == [
        {
            "event": "collection.deleted",
            "org_id": "org-a",
            "actor_id": "user-a",
            "target": collection_id,
            "details": {"name": "Board", "role": "owner"},
        }
    ]


def test_a_deletion_is_not_refused_when_the_audit_log_is_down(client, auth, fake_auth, caplog):
    collection_id = create_collection(client, auth())
    headers = auth()
    client.get("/api/v1/collections", headers=headers)  # the feed is cached before auth fails
    fake_auth.down = True
    assert client.delete(f"/api/v1/collections/{collection_id}", headers=headers).status_code == 204
    assert fake_auth.audit == []
    assert any(r.message == "audit event not recorded by auth" for r in caplog.records)
