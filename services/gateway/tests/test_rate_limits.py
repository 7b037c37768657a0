"""Rate limits and quotas (chatlens.gateway.ratelimits) against a real Redis: per address on the
anonymous routes, per caller and per org on the costly ones, shared by two gateway replicas,
429 with Retry-After and RateLimit-* headers, daily upload quotas, and the memory fallback."""

from __future__ import annotations

import logging
import re
import socket
import uuid

import pytest
from prometheus_client import REGISTRY

from chatlens.gateway import ratelimits
from chatlens.gateway.app import create_app
from chatlens.gateway.ratelimits import RULES
from chatlens.shared.testing import require_server

from .test_api import create_collection, upload

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    """One database is enough here: the counters live in Redis, not in the gateway's tables."""
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def make_gateway(settings):
    apps = []

    def make(**overrides):
        app = create_app(settings.model_copy(update=overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["chatlens.bus"].close()
        app.extensions["chatlens.engine"].dispose()


@pytest.fixture
def redis_gateway(make_gateway):
    require_server("127.0.0.1", 6379, "Redis")
    return lambda **kw: make_gateway(redis_url=REDIS, **kw)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_address() -> str:
    """An address no earlier run counted (the counters outlive a test in Redis)."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def ask(client, headers, address="127.0.0.1"):
    # An unknown collection: the limit is checked first, then the view answers 404 at once.
    return client.post(
        "/api/v1/collections/nope/ask",
        json={"question": "why?"},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def test_every_route_of_the_table_exists(app):
    adapter = app.url_map.bind("localhost")
    for key in RULES:
        method, rule = key.split(" ", 1)
        path = re.sub(r"<[^>]+>", "x", rule)
        adapter.match(path, method)  # raises NotFound or MethodNotAllowed for a stale row


def test_registration_is_limited_per_address_with_the_headers(redis_gateway):
    client = redis_gateway().test_client()
    address, other = fresh_address(), fresh_address()

    def register(addr):
        return client.post(
            "/api/v1/auth/register",
            json={"email": "a@example.com"},
            environ_base={"REMOTE_ADDR": addr},
        )

    accepted = [register(address) for _ in range(10)]
    refused = register(address)

    assert [r.status_code for r in accepted] == [201] * 10, accepted[-1].headers
    assert accepted[-1].headers.get("RateLimit-Limit") == "10", dict(accepted[-1].headers)
    assert accepted[-1].headers["RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert register(other).status_code == 201  # another address has its own budget


def test_a_costly_route_is_limited_per_caller_and_other_callers_keep_theirs(redis_gateway, auth):
    client = redis_gateway(rate_limit_scale=0.25).test_client()  # ask: 5 per minute per caller
    org = f"org-{uuid.uuid4().hex[:8]}"
    ada = auth(user=f"ada-{uuid.uuid4().hex[:8]}", org=org)
    bob = auth(user=f"bob-{uuid.uuid4().hex[:8]}", org=org)

    first = [ask(client, ada).status_code for _ in range(5)]
    refused = ask(client, ada)

    assert first == [404] * 5
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert ask(client, bob).status_code == 404
    # A cheap route is not spent by the costly one's budget.
    assert client.get("/api/v1/collections", headers=ada).status_code == 200


def test_an_org_is_limited_across_its_members(redis_gateway, auth):
    client = redis_gateway(rate_limit_scale=0.1).test_client()  # ask: 6 per minute per org
    org = f"org-{uuid.uuid4().hex[:8]}"
    members = [auth(user=f"u{i}-{uuid.uuid4().hex[:8]}", org=org) for i in range(7)]

    statuses = [ask(client, member).status_code for member in members]

    assert statuses == [404] * 6 + [429]
    assert ask(client, auth(user="someone", org=f"org-{uuid.uuid4().hex}")).status_code == 404


def test_two_gateway_replicas_share_the_counters(redis_gateway, auth):
    one, two = (redis_gateway(rate_limit_scale=0.25).test_client() for _ in range(2))
    headers = auth(user=f"ada-{uuid.uuid4().hex[:8]}", org=f"org-{uuid.uuid4().hex[:8]}")

    statuses = [ask(client, headers).status_code for client in (one, two, one, two, one, two)]

    assert statuses == [404] * 5 + [429]


def test_the_daily_upload_quota_counts_files_per_org(redis_gateway, auth, export_file):
    app = redis_gateway(upload_quota_per_day=2)
    client = app.test_client()
    headers = auth(user="ada", org=f"org-{uuid.uuid4().hex[:8]}")
    collection_id = create_collection(client, headers)
    content = export_file.read_bytes()

    two = upload(client, headers, collection_id, [("a.txt", content), ("b.txt", content)])
    over = upload(client, headers, collection_id, [("c.txt", content)])

    assert two.status_code == 202, two.json
    assert over.status_code == 429 and over.json["error"]["code"] == "quota_exceeded"
    assert int(over.headers["Retry-After"]) <= 86400


def test_unknown_urls_count_against_the_address_and_probes_never_do(make_gateway):
    client = make_gateway(redis_url="", rate_limit_scale=0.01).test_client()  # 12 a minute

    scan = [client.get(f"/api/v1/guess-{n}").status_code for n in range(13)]

    assert scan == [404] * 12 + [429]
    assert client.get("/healthz").status_code == 200  # a probe is never refused


def test_without_redis_the_counters_live_in_memory(make_gateway, auth):
    client = make_gateway(redis_url="", rate_limit_scale=0.25).test_client()
    headers = auth()

    assert [ask(client, headers).status_code for _ in range(6)] == [404] * 5 + [429]


def fallbacks() -> float:
    return REGISTRY.get_sample_value("chatlens_gateway_ratelimit_fallback_total") or 0.0


def test_an_unreachable_redis_falls_back_to_this_process_with_the_same_limits(
    make_gateway, auth, unused_port, caplog
):
    client = make_gateway(
        redis_url=f"redis://127.0.0.1:{unused_port}/0", rate_limit_scale=0.25
    ).test_client()  # ask: 5 per minute per caller
    headers = auth(user=f"ada-{uuid.uuid4().hex[:8]}")
    before = fallbacks()

    with caplog.at_level(logging.ERROR, logger="chatlens.gateway.ratelimits"):
        statuses = [ask(client, headers).status_code for _ in range(6)]

    assert statuses == [404] * 5 + [429]  # still limited, by the same numbers
    listed = client.get("/api/v1/collections", headers=headers)
    assert listed.status_code == 200 and listed.headers["RateLimit-Limit"] == "150"
    assert fallbacks() > before
    unavailable = [r for r in caplog.records if "storage unavailable" in r.getMessage()]
    assert len(unavailable) == 1  # once for the outage, not once per request


def test_a_reachable_redis_is_used_and_the_fallback_stays_idle(redis_gateway, auth):
    client = redis_gateway(rate_limit_scale=0.25).test_client()
    headers = auth(user=f"ada-{uuid.uuid4().hex[:8]}", org=f"org-{uuid.uuid4().hex[:8]}")
    before = fallbacks()

    assert [ask(client, headers).status_code for _ in range(6)] == [404] * 5 + [429]
    assert fallbacks() == before


def test_redis_is_used_again_once_it_is_back(make_gateway, auth, unused_port, monkeypatch):
    """A gateway that lost Redis counts in memory, then, Redis back, shares its counters again:
    a second replica that always had Redis sees what the first counted after the return."""
    require_server("127.0.0.1", 6379, "Redis")
    monkeypatch.setattr(ratelimits, "REDIS_RETRY_S", 0.0)
    app = make_gateway(redis_url=f"redis://127.0.0.1:{unused_port}/0", rate_limit_scale=0.25)
    limits = app.extensions["chatlens.ratelimits"]
    headers = auth(user=f"ada-{uuid.uuid4().hex[:8]}", org=f"org-{uuid.uuid4().hex[:8]}")
    assert ask(app.test_client(), headers).status_code == 404  # counted in memory

    # Redis comes back (the same storage object, pointed at the real server).
    limits._primary = ratelimits._Strategies(
        ratelimits.storage.storage_from_string(REDIS, wrap_exceptions=True)
    )
    other = make_gateway(redis_url=REDIS, rate_limit_scale=0.25).test_client()
    before = fallbacks()
    statuses = [
        ask(client, headers).status_code
        for client in (app.test_client(), other, app.test_client(), other, other)
    ]
    assert statuses == [404] * 5  # five shared hits; the memory one is not among them
    assert ask(other, headers).status_code == 429
    assert fallbacks() == before
