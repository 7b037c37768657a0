"""The gateway against the REAL auth service, running in-process on a loopback port (werkzeug's
server in a thread): roles from auth's table, sessions ended by logout and "sign out everywhere"
reaching the gateway through the signed revocation feed, API keys checked by auth, and auth's
internal routes out of reach. Services never import each other; this test alone brings the two
together, as the deployment does."""

import threading
import time
import uuid

import pytest
from werkzeug.serving import make_server

from chatlens.auth.app import create_app as create_auth_app
from chatlens.auth.config import AuthSettings

from .conftest import WHATSAPP
from .test_api import create_collection, upload

INTERNAL_TOKEN = "integration-internal-token"
PASSWORD = "a long and uncommon passphrase 7"
REFRESH_S = 0.5


@pytest.fixture(scope="module")
def real_auth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    settings = AuthSettings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'auth.db'}",
        internal_token=INTERNAL_TOKEN,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )
    app = create_auth_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "server": server}
    server.shutdown()


@pytest.fixture
def database_url(tmp_path):  # one database is enough here: auth is what is under test
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings, real_auth):
    return settings.model_copy(
        update={
            "auth_url": real_auth["url"],
            "jwks_url": None,
            "internal_token": INTERNAL_TOKEN,
            "revocations_refresh_s": REFRESH_S,
        }
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def sign_up(client, email):
    """Registers through the gateway's proxy; the user's token pair in their own org."""
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return login(client, email)


def login(client, email):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"  # passed back by the proxy
    return response.json


def refused_within(client, path, headers, seconds):
    deadline = time.monotonic() + seconds
    while client.get(path, headers=headers).status_code != 401:
        assert time.monotonic() < deadline, f"still accepted after {seconds} s"
        time.sleep(0.05)


def test_roles_sessions_and_keys_with_the_real_auth_service(client, real_auth):
    tag = uuid.uuid4().hex[:8]
    owner = sign_up(client, f"owner-{tag}@example.com")
    org_id = client.get("/api/v1/me", headers=bearer(owner["access_token"])).json["org"]["id"]
    collection_id = create_collection(client, bearer(owner["access_token"]))
    response = upload(
        client, bearer(owner["access_token"]), collection_id, [("a.txt", WHATSAPP.encode())]
    )
    assert response.status_code == 202, response.json

    # A viewer joins the owner's org by invitation and switches to it.
    invitation = client.post(
        "/api/v1/auth/invitations",
        headers=bearer(owner["access_token"]),
        json={"email": f"viewer-{tag}@example.com", "role": "viewer"},
    )
    assert invitation.status_code == 201, invitation.json
    own = sign_up(client, f"viewer-{tag}@example.com")
    accepted = client.post(
        "/api/v1/auth/invitations/accept",
        headers=bearer(own["access_token"]),
        json={"token": invitation.json["token"]},
    )
    assert accepted.status_code == 200, accepted.json
    viewer = client.post(
        "/api/v1/auth/switch", json={"refresh_token": own["refresh_token"], "org_id": org_id}
    ).json
    search = f"/api/v1/collections/{collection_id}/search"
    assert (
        client.post(
            search, json={"query": "venue"}, headers=bearer(viewer["access_token"])
        ).status_code
        == 200
    )
    response = upload(
        client, bearer(viewer["access_token"]), collection_id, [("b.txt", WHATSAPP.encode())]
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"

    # Logout ends the viewer's session: the gateway refuses its access token within the window.
    listing = f"/api/v1/collections/{collection_id}"
    assert client.get(listing, headers=bearer(viewer["access_token"])).status_code == 200
    response = client.post(
        "/api/v1/auth/logout",
        headers=bearer(viewer["access_token"]),
        json={"refresh_token": viewer["refresh_token"]},
    )
    assert response.status_code == 204, response.get_data(as_text=True)
    refused_within(client, listing, bearer(viewer["access_token"]), REFRESH_S + 1.5)

    # An API key with search:read only.
    key = client.post(
        "/api/v1/auth/api-keys",
        headers=bearer(owner["access_token"]),
        json={"name": "script", "scopes": ["search:read"]},
    )
    assert key.status_code == 201, key.json
    key_headers = bearer(key.json["key"])
    assert client.post(search, json={"query": "venue"}, headers=key_headers).status_code == 200
    response = client.post("/api/v1/collections", json={"name": "x"}, headers=key_headers)
    assert response.status_code == 403
    assert client.get(listing, headers=bearer("clk_0_wrong")).status_code == 401

    # "Sign out everywhere" sets the user's valid-after: every older token dies.
    time.sleep(1.05)  # valid-after has a one-second grain: the old token must be from before it
    assert (
        client.post("/api/v1/auth/logout-all", headers=bearer(owner["access_token"])).status_code
        == 204
    )
    refused_within(client, listing, bearer(owner["access_token"]), REFRESH_S + 1.5)
    fresh = login(client, f"owner-{tag}@example.com")
    assert client.get(listing, headers=bearer(fresh["access_token"])).status_code == 200


def test_internal_routes_are_out_of_reach_through_the_gateway(client, real_auth):
    for path in (
        "/internal/v1/revocations",
        "/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/internal/v1/revocations",
        "/api/v1/auth/..%2f..%2f..%2finternal/v1/revocations",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(
        "/api/v1/auth/..%2f..%2f..%2finternal/v1/api-keys/verify",
        json={"key": "clk_x_y"},
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )
    assert response.status_code == 404


def test_auth_down_means_503_for_api_keys(app, client, real_auth, settings):
    tag = uuid.uuid4().hex[:8]
    owner = sign_up(client, f"down-{tag}@example.com")
    key = client.post(
        "/api/v1/auth/api-keys",
        headers=bearer(owner["access_token"]),
        json={"name": "script", "scopes": ["collections:read"]},
    ).json["key"]
    # A gateway whose AUTH_URL answers nothing (auth stopped, or unreachable).
    from chatlens.gateway.app import create_app

    down = create_app(settings.model_copy(update={"auth_url": "http://127.0.0.1:9"}))
    try:
        response = down.test_client().get("/api/v1/collections", headers=bearer(key))
        assert response.status_code == 503
        assert response.json["error"]["code"] == "auth_unavailable"
    finally:
        down.extensions["chatlens.bus"].close()
        down.extensions["chatlens.engine"].dispose()
    assert client.get("/api/v1/collections", headers=bearer(key)).status_code == 200


def test_a_deletion_lands_in_auths_audit_log(client, real_auth):
    owner = sign_up(client, f"audit-{uuid.uuid4().hex[:8]}@example.com")
    headers = bearer(owner["access_token"])
    collection_id = create_collection(client, headers, name="Board minutes")
    assert client.delete(f"/api/v1/collections/{collection_id}", headers=headers).status_code == 204
    events = client.get("/api/v1/auth/audit?event=collection.deleted", headers=headers)
    assert events.status_code == 200, events.json
    [event] = events.json["events"]
    assert event["target"] == collection_id
    assert event["details"]["name"] == "Board minutes"


def test_auth_drops_a_sign_in_the_gateway_no_longer_waits_for(client, real_auth, monkeypatch):
    """Under a sign-in storm auth's queue outlasts the proxy's timeout; the proxy's deadline
    header makes auth answer such a request at once instead of hashing the password for a
    client that is gone. Here the deadline has passed as the request arrives."""
    from chatlens.gateway.api import auth_proxy
    from chatlens.shared import web

    tag = uuid.uuid4().hex[:8]
    email = f"late-{tag}@example.com"
    sign_up(client, email)
    monkeypatch.setattr(auth_proxy, "deadline_header", lambda _timeout_s: web.deadline_header(-1))
    late = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert late.status_code == 503
    assert late.json["error"]["code"] == "deadline_exceeded"
    monkeypatch.undo()
    sessions = client.get(
        "/api/v1/auth/sessions", headers=bearer(login(client, email)["access_token"])
    )
    assert sessions.status_code == 200, sessions.json
    assert len(sessions.json["sessions"]) == 2  # sign-up's and this one: the late one made none
