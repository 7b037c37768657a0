"""Revocations pushed over the bus (issue 15.4): the real auth service broadcasts each one as it
is committed, and two gateway apps, each subscribed with its own queue on a real RabbitMQ, refuse
the ended session, the revoked API key, the demoted member's and the changed password's tokens
within a second. The revocation feed's poll and the API-key cache are set to 30 s here, so only
the broadcast can explain a refusal that quick (test_revocation_window covers the poll alone)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from werkzeug.serving import make_server

from chatlens.auth.app import create_app as create_auth_app
from chatlens.auth.config import AuthSettings
from chatlens.gateway.app import create_app
from chatlens.gateway.revocation_push import broadcast_routes
from chatlens.gateway.revocations import RevocationFeed, Revocations
from chatlens.shared.testing import throwaway_vhost

from .test_with_real_auth import INTERNAL_TOKEN, PASSWORD, bearer, login, sign_up

SLOW_S = 30.0  # the fallbacks, too slow to be what refuses a token here


@pytest.fixture
def database_url(tmp_path):  # one database is enough: the bus and auth are what is under test
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture(scope="module")
def amqp_url():
    with throwaway_vhost("revocations") as url:
        yield url


@pytest.fixture(scope="module")
def broadcasting_auth(tmp_path_factory, amqp_url):
    folder = tmp_path_factory.mktemp("auth")
    app = create_auth_app(
        AuthSettings(
            data_dir=folder,
            database_url=f"sqlite:///{folder / 'auth.db'}",
            amqp_url=amqp_url,
            internal_token=INTERNAL_TOKEN,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def gateways(tmp_path, settings, broadcasting_auth, amqp_url):
    """Two gateway processes' apps on one database, each with its own subscription."""
    apps = []
    for n in range(2):
        apps.append(
            create_app(
                settings.model_copy(
                    update={
                        "data_dir": tmp_path / f"gateway-{n}",
                        "amqp_url": amqp_url,
                        "auth_url": broadcasting_auth,
                        "jwks_url": None,
                        "internal_token": INTERNAL_TOKEN,
                        "background": True,
                        "revocations_refresh_s": SLOW_S,
                        "api_key_cache_s": SLOW_S,
                    }
                )
            )
        )
    deadline = time.monotonic() + 20
    while not all(app.extensions["chatlens.broadcasts"].ready for app in apps):
        assert time.monotonic() < deadline, "a gateway never subscribed"
        time.sleep(0.05)
    yield [app.test_client() for app in apps]
    for app in apps:
        for name in ("chatlens.broadcasts", "chatlens.consumer"):
            app.extensions[name].stop(5)
        app.extensions["chatlens.outbox"].stop()
        app.extensions["chatlens.bus"].close()
        app.extensions["chatlens.engine"].dispose()


def accepted(client, headers) -> bool:
    status = client.get("/api/v1/collections", headers=headers).status_code
    assert status in (200, 401), status
    return status == 200


def seconds_until_refused_by_both(gateways, headers) -> list[float]:
    started, took = time.monotonic(), [None] * len(gateways)
    while None in took:
        for n, client in enumerate(gateways):
            if took[n] is None and not accepted(client, headers):
                took[n] = time.monotonic() - started
        assert time.monotonic() - started < 10, f"still accepted after 10 s: {took}"
        time.sleep(0.01)
    return took


def test_every_kind_of_revocation_reaches_both_gateways_within_a_second(gateways):
    one, two = gateways
    tag = uuid.uuid4().hex[:8]
    owner = sign_up(one, f"owner-{tag}@example.com")
    owner_headers = bearer(owner["access_token"])
    org_id = one.get("/api/v1/me", headers=owner_headers).json["org"]["id"]
    assert all(accepted(client, owner_headers) for client in gateways)  # feed fetched and cached

    # A member who joins the owner's org as an analyst.
    invitation = one.post(
        "/api/v1/auth/invitations",
        headers=owner_headers,
        json={"email": f"member-{tag}@example.com", "role": "analyst"},
    ).json
    own = sign_up(one, f"member-{tag}@example.com")
    assert (
        one.post(
            "/api/v1/auth/invitations/accept",
            headers=bearer(own["access_token"]),
            json={"token": invitation["token"]},
        ).status_code
        == 200
    )
    member = one.post(
        "/api/v1/auth/switch", json={"refresh_token": own["refresh_token"], "org_id": org_id}
    ).json
    member_headers = bearer(member["access_token"])
    member_id = one.get("/api/v1/me", headers=member_headers).json["id"]

    # An API key, remembered by both gateways for SLOW_S.
    key = one.post(
        "/api/v1/auth/api-keys",
        headers=owner_headers,
        json={"name": "script", "scopes": ["collections:read"]},
    ).json
    key_headers = bearer(key["key"])
    assert all(accepted(client, key_headers) for client in gateways)
    assert all(accepted(client, member_headers) for client in gateways)

    took = {}
    assert (
        one.delete(f"/api/v1/auth/api-keys/{key['id']}", headers=owner_headers).status_code == 204
    )
    took["api key revoked"] = seconds_until_refused_by_both(gateways, key_headers)

    assert (
        two.patch(
            f"/api/v1/auth/members/{member_id}", headers=owner_headers, json={"role": "viewer"}
        ).status_code
        == 200
    )
    took["member demoted"] = seconds_until_refused_by_both(gateways, member_headers)

    second = login(one, f"owner-{tag}@example.com")  # another device's session of the owner
    second_headers = bearer(second["access_token"])
    assert all(accepted(client, second_headers) for client in gateways)
    assert (
        one.post(
            "/api/v1/auth/logout",
            headers=second_headers,
            json={"refresh_token": second["refresh_token"]},
        ).status_code
        == 204
    )
    took["session ended"] = seconds_until_refused_by_both(gateways, second_headers)
    assert all(accepted(client, owner_headers) for client in gateways)  # the other one lives

    changed = one.post(
        "/api/v1/auth/password",
        headers=owner_headers,
        json={"current_password": PASSWORD, "new_password": PASSWORD + " and more"},
    )
    assert changed.status_code == 200, changed.json
    took["password changed"] = seconds_until_refused_by_both(gateways, owner_headers)
    assert all(accepted(client, bearer(changed.json["access_token"])) for client in gateways)

    print("seconds until refused by each gateway:", took)
    assert all(s < 1.0 for seconds in took.values() for s in seconds), took


def test_pushed_news_refuses_at_once_and_a_resubscription_fetches_the_feed_again():
    fetched = []
    feed = RevocationFeed("http://feed", None, lambda token: {}, refresh_s=SLOW_S)

    def fetch():  # auth's feed, listing nothing
        fetched.append(1)
        return Revocations(expires_at=time.time() + 60)

    feed._fetch = fetch
    now = int(time.time())
    assert not feed.ended("u1", "s1", now) and fetched == [1]
    feed.push({"s1": now}, {})
    feed.push({}, {"u2": now})
    assert feed.ended("u1", "s1", now)  # the session
    assert feed.ended("u2", "s9", now - 1) and not feed.ended("u2", "s9", now)  # earlier only
    assert fetched == [1]  # no fetch was due
    feed.push({"old": now - 7200}, {})  # news older than any token is let go
    assert feed.ended("u1", "s1", now) and "old" not in feed._pushed.sessions
    feed.refresh_soon()
    assert not feed.ended("u3", "s3", now) and fetched == [1, 1]


def test_every_broadcast_type_has_a_route_in_the_gateway():
    assert broadcast_routes(None, None).unhandled() == []  # type: ignore[arg-type]
