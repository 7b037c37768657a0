"""A replaced provider key is used no longer than the broadcast takes (issue 16): the real auth
service broadcasts ``ProviderSecretsChanged`` when an org admin stores or deletes a secret, and
two inference replicas' key caches, each subscribed with its own queue on a real RabbitMQ, drop
the old value at once. The keys are kept for 60 s here, so only the broadcast can explain a new
key read within seconds."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.serving import make_server

from chatlens.auth.app import create_app as create_auth_app
from chatlens.auth.config import AuthSettings
from chatlens.inference.provider_keys import AuthKeys, broadcast_routes
from chatlens.shared import schemas
from chatlens.shared.bus import Bus, PermanentError

INTERNAL_TOKEN = "inference-internal-token"
PASSWORD = "a long and uncommon passphrase 7"
OLD, NEW = "sk-the-old-key-0123456789", "sk-the-new-key-9876543210"


@pytest.fixture
def auth_url(tmp_path, amqp_url):
    app = create_auth_app(
        AuthSettings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'auth.db'}",
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
def replicas(auth_url, amqp_url):
    """Two inference replicas' key caches (60 s), each with its own broadcast subscription."""
    started = []
    for n in range(2):
        bus = Bus(amqp_url, f"inference-{n}")
        keys = AuthKeys(auth_url, INTERNAL_TOKEN, ttl_s=60.0)
        started.append(
            (bus, keys, bus.subscriber(broadcast_routes(keys), on_connect=keys.forget_all).start())
        )
    deadline = time.monotonic() + 20
    while not all(subscriber.ready for _, _, subscriber in started):
        assert time.monotonic() < deadline, "a replica never subscribed"
        time.sleep(0.05)
    yield [keys for _, keys, _ in started]
    for bus, _, subscriber in started:
        subscriber.stop(5)
        bus.close()


class Admin:
    """An org owner talking to auth's public API."""

    def __init__(self, auth_url: str) -> None:
        import requests

        self.url, self.http = auth_url, requests.Session()
        email = "owner@example.org"
        assert (
            self.http.post(
                f"{auth_url}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
            ).status_code
            == 201
        )
        tokens = self.http.post(
            f"{auth_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()
        self.http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        self.org_id = self.http.get(f"{auth_url}/api/v1/me").json()["org"]["id"]

    def store(self, name: str, value: str) -> None:
        response = self.http.put(
            f"{self.url}/api/v1/auth/secrets/{name}", json={"provider": "openai", "value": value}
        )
        assert response.status_code == 200, response.text

    def delete(self, name: str) -> None:
        assert self.http.delete(f"{self.url}/api/v1/auth/secrets/{name}").status_code == 204


def read_within(keys: AuthKeys, org_id: str, name: str, wanted: str, seconds: float) -> float:
    started = time.monotonic()
    while (value := keys.key(org_id, name)) != wanted:
        assert time.monotonic() - started < seconds, f"still {value[:10]}..."
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_replaced_key_is_read_anew_by_every_replica_at_once(auth_url, replicas):
    admin = Admin(auth_url)
    admin.store("team-llm", OLD)
    admin.store("other", OLD)
    assert [keys.key(admin.org_id, "team-llm") for keys in replicas] == [OLD, OLD]
    assert replicas[0].key(admin.org_id, "other") == OLD

    admin.store("team-llm", NEW)

    for keys in replicas:  # kept for 60 s: only the broadcast explains this
        assert read_within(keys, admin.org_id, "team-llm", NEW, 5.0) < 5.0
    assert replicas[0]._cache[(admin.org_id, "other")][1] == OLD  # the others stay kept


def test_a_deleted_key_is_not_used_after_the_broadcast(auth_url, replicas):
    admin = Admin(auth_url)
    admin.store("team-llm", OLD)
    assert replicas[0].key(admin.org_id, "team-llm") == OLD

    admin.delete("team-llm")

    deadline = time.monotonic() + 5.0
    while True:
        try:
            replicas[0].key(admin.org_id, "team-llm")
        except PermanentError as refused:
            assert refused.code == "provider_secret_not_found"
            break
        assert time.monotonic() < deadline, "the deleted key was still used"
        time.sleep(0.02)


def test_the_broadcast_names_the_org_and_secrets_never_the_value():
    message = schemas.ProviderSecretsChanged(org_id="org-1", names=["team-llm"])
    assert OLD not in schemas.encode(message).decode()
    keys = AuthKeys("http://127.0.0.1:1", "token", ttl_s=60.0)
    keys._cache = {("org-1", "team-llm"): (0.0, OLD), ("org-2", "team-llm"): (0.0, OLD)}
    broadcast_routes(keys)(message, None)  # type: ignore[arg-type]
    assert list(keys._cache) == [("org-2", "team-llm")]  # another org's key of that name stays
    broadcast_routes(keys)(schemas.AccessRevoked(), None)  # type: ignore[arg-type]
    assert broadcast_routes(keys).unhandled() == []
