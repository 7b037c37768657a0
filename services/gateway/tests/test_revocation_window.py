"""How soon the gateway refuses what auth ended (issue 15.4), with the product's default polling
of the revocation feed and API-key checks, against the real auth service: an ended session and a
revoked API key are refused within a second (the probe saw 5 s and 30 s)."""

from __future__ import annotations

import time
import uuid

import pytest

from chatlens.gateway.config import GatewaySettings

from .test_with_real_auth import INTERNAL_TOKEN, bearer, real_auth, sign_up  # noqa: F401

DEFAULTS = GatewaySettings.model_fields


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings, real_auth):  # noqa: F811 - the real auth fixture
    return settings.model_copy(
        update={
            "auth_url": real_auth["url"],
            "jwks_url": None,
            "internal_token": INTERNAL_TOKEN,
            "revocations_refresh_s": DEFAULTS["revocations_refresh_s"].default,
            "api_key_cache_s": DEFAULTS["api_key_cache_s"].default,
        }
    )


def seconds_until_refused(client, headers) -> float:
    started = time.monotonic()
    while client.get("/api/v1/collections", headers=headers).status_code != 401:
        assert time.monotonic() - started < 10, "still accepted after 10 s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_an_ended_session_and_a_revoked_key_are_refused_within_a_second(client):
    tokens = sign_up(client, f"ada-{uuid.uuid4().hex[:8]}@example.com")
    access = bearer(tokens["access_token"])
    key = client.post(
        "/api/v1/auth/api-keys",
        headers=access,
        json={"name": "script", "scopes": ["collections:read"]},
    ).json
    key_headers = bearer(key["key"])
    assert client.get("/api/v1/collections", headers=key_headers).status_code == 200
    assert client.get("/api/v1/collections", headers=access).status_code == 200  # cached now

    revoked = client.delete(f"/api/v1/auth/api-keys/{key['id']}", headers=access)
    assert revoked.status_code == 204, revoked.get_data(as_text=True)
    key_s = seconds_until_refused(client, key_headers)
    ended = client.post(
        "/api/v1/auth/logout", headers=access, json={"refresh_token": tokens["refresh_token"]}
    )
    assert ended.status_code == 204
    session_s = seconds_until_refused(client, access)

    assert key_s < 1.0 and session_s < 1.0, (key_s, session_s)
