"""API keys: created with scopes and expiry, shown once, stored hashed, verified for the gateway,
listed with last use, revoked; a key never does more than its creator's role allows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select, update

from chatlens.auth.tables import ApiKey

KEYS = "/api/v1/auth/api-keys"
VERIFY = "/internal/v1/api-keys/verify"


def _create(api, token, scopes=("search:read",), **extra):
    return api.call(
        "POST", KEYS, token, {"name": "nightly export", "scopes": list(scopes), **extra}
    )


def _verify(client, key: str):
    return client.post(VERIFY, json={"key": key})


def test_a_key_is_shown_once_stored_hashed_and_verifies_with_its_scopes(api, client, runtime):
    tokens = api.signed_in()
    created = _create(
        api, tokens["access_token"], ["search:read", "uploads:create"], expires_in_days=30
    )
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    key = created.json["key"]
    assert key.startswith("clk_")
    with runtime.sessions() as session:
        row = session.scalar(select(ApiKey))
    assert key.split("_", 2)[2] not in row.secret_hash
    assert row.secret_hash == hashlib.sha256(key.split("_", 2)[2].encode()).hexdigest()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    verified = _verify(client, key)
    assert verified.status_code == 200
    assert verified.json["scopes"] == ["search:read", "uploads:create"]
    assert verified.json["org_id"] == claims["org"] and verified.json["user_id"] == claims["sub"]
    assert row.expires_at - row.created_at == timedelta(days=30)

    listed = api.call("GET", KEYS, tokens["access_token"]).json["api_keys"]
    assert len(listed) == 1 and "key" not in listed[0] and listed[0]["last_used_at"]


def test_wrong_tampered_revoked_and_expired_keys_are_refused(api, client, runtime):
    tokens = api.signed_in()
    key = _create(api, tokens["access_token"]).json["key"]
    for bad in [
        "",
        "clk_",
        "nope",
        key[:-1] + ("A" if key[-1] != "A" else "B"),
        "clk_" + "0" * 32 + "_" + key.split("_", 2)[2],
        key.replace("clk_", "clk_ "),
    ]:
        response = _verify(client, bad)
        assert response.status_code in (401, 422), bad
    with runtime.sessions() as session:
        session.execute(update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert _verify(client, key).json["error"]["code"] == "invalid_api_key"

    second = _create(api, tokens["access_token"]).json
    assert _verify(client, second["key"]).status_code == 200
    assert api.call("DELETE", f"{KEYS}/{second['id']}", tokens["access_token"]).status_code == 204
    assert _verify(client, second["key"]).status_code == 401
    assert api.call("GET", KEYS, tokens["access_token"]).json["api_keys"][1]["revoked"] is True


def test_a_key_cannot_have_scopes_beyond_the_creators_role(api, client):
    owner = api.signed_in("owner@example.com")
    invite = api.call(
        "POST",
        "/api/v1/auth/invitations",
        owner["access_token"],
        {"email": "viewer@example.com", "role": "viewer"},
    ).json
    viewer = api.signed_in("viewer@example.com")
    api.call(
        "POST",
        "/api/v1/auth/invitations/accept",
        viewer["access_token"],
        {"token": invite["token"]},
    )
    org = jwt.decode(owner["access_token"], options={"verify_signature": False})["org"]
    viewer = api.switch(viewer["refresh_token"], org).json
    refused = _create(api, viewer["access_token"], ["uploads:create"])
    assert refused.status_code == 403
    unknown = _create(api, viewer["access_token"], ["everything"])
    assert unknown.status_code == 422
    assert _create(api, viewer["access_token"], ["search:read"]).status_code == 201
    # The owner sees every key of the org; the viewer only their own.
    assert len(api.call("GET", KEYS, owner["access_token"]).json["api_keys"]) == 1
    assert len(api.call("GET", KEYS, viewer["access_token"]).json["api_keys"]) == 1


def test_a_demotion_shrinks_what_an_existing_key_may_do_and_removal_kills_it(api, client):
    owner = api.signed_in("owner@example.com")
    org = jwt.decode(owner["access_token"], options={"verify_signature": False})["org"]
    invite = api.call(
        "POST",
        "/api/v1/auth/invitations",
        owner["access_token"],
        {"email": "bob@example.com", "role": "analyst"},
    ).json
    bob = api.signed_in("bob@example.com")
    api.call(
        "POST", "/api/v1/auth/invitations/accept", bob["access_token"], {"token": invite["token"]}
    )
    bob = api.switch(bob["refresh_token"], org).json
    bob_id = jwt.decode(bob["access_token"], options={"verify_signature": False})["sub"]
    key = _create(api, bob["access_token"], ["search:read", "uploads:create"]).json["key"]
    api.call("PATCH", f"/api/v1/auth/members/{bob_id}", owner["access_token"], {"role": "viewer"})
    assert _verify(client, key).json["scopes"] == ["search:read"]
    api.call("DELETE", f"/api/v1/auth/members/{bob_id}", owner["access_token"])
    assert _verify(client, key).status_code == 401


def test_another_orgs_key_cannot_be_revoked(api, client):
    ada = api.signed_in("ada@example.com")
    eve = api.signed_in("eve@example.com")
    created = _create(api, ada["access_token"]).json
    assert api.call("DELETE", f"{KEYS}/{created['id']}", eve["access_token"]).status_code == 404
    assert _verify(client, created["key"]).status_code == 200
