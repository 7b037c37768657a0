"""Signing-key rotation: new tokens use the new kid, old tokens verify until the key retires."""

from __future__ import annotations

import os
import time

import jwt
from flask.testing import FlaskCliRunner

from chatlens.auth import keys

PASSWORD = "correct horse battery staple"


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def _jwks_kids(client) -> list[str]:
    return [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]


def test_rotation_by_the_admin_cli_serves_old_and_new_keys(make_app, tmp_path):
    key_path = tmp_path / "rot" / "jwt-private.pem"
    app = make_app(jwt_private_key_path=key_path)
    client = app.test_client()
    client.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
    before = client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    ).json
    old_kid = _kid(before["access_token"])

    result = FlaskCliRunner(app).invoke(args=["admin", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert f"retired {old_kid}" in result.output

    after = client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    ).json
    new_kid = _kid(after["access_token"])
    assert new_kid != old_kid
    assert _jwks_kids(client) == [new_kid, old_kid]
    for tokens in (before, after):
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200
    # Another process over the same files (a second replica) sees the rotation too.
    other = make_app(jwt_private_key_path=key_path).test_client()
    assert _jwks_kids(other) == [new_kid, old_kid]
    assert (key_path.parent / "retired-keys" / f"{old_kid}.pem").stat().st_mode & 0o077 == 0


def test_a_retired_key_leaves_the_jwks_after_its_retention_and_its_tokens_die(make_app, tmp_path):
    key_path = tmp_path / "rot" / "jwt-private.pem"
    app = make_app(jwt_private_key_path=key_path, retired_key_keep_s=0, access_ttl_s=60)
    client = app.test_client()
    client.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
    token = client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    ).json
    old_kid, new_kid = keys.rotate(key_path)
    retired = key_path.parent / "retired-keys" / f"{old_kid}.pem"
    assert old_kid in _jwks_kids(client)
    past = time.time() - 61
    os.utime(retired, (past, past))
    assert _jwks_kids(client) == [new_kid]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 401
