"""Refresh-token rotation, re-use detection and logout."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from chatlens.auth.tables import RefreshToken


def test_refresh_returns_a_new_pair_and_spends_the_old_refresh_token(api, runtime):
    first = api.signed_in()
    second = api.refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.headers["Cache-Control"] == "no-store"
    pair = second.json
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["access_token"] != first["access_token"]
    assert api.me(pair["access_token"]).status_code == 200

    with runtime.sessions() as session:
        old = session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash
                == hashlib.sha256(first["refresh_token"].encode()).hexdigest()
            )
        )
        new = session.scalar(select(RefreshToken).where(RefreshToken.spent_at.is_(None)))
    assert old.spent_at is not None and old.revoked_at is None
    assert new.family_id == old.family_id
    assert new.expires_at > datetime.now(UTC) + timedelta(days=29)


def test_only_the_sha256_of_a_refresh_token_is_stored(api, runtime):
    token = api.signed_in()["refresh_token"]
    with runtime.sessions() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(api, runtime):
    first = api.signed_in()
    second = api.refresh(first["refresh_token"]).json
    third = api.refresh(second["refresh_token"]).json

    reused = api.refresh(first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json["error"]["code"] == "token_reused"
    # The newest token of the family, never spent, is dead too.
    newest = api.refresh(third["refresh_token"])
    assert newest.status_code == 401
    with runtime.sessions() as session:
        live = session.scalars(select(RefreshToken).where(RefreshToken.revoked_at.is_(None))).all()
    assert live == []


def test_reuse_revokes_only_the_family_it_belongs_to(api):
    one = api.signed_in()
    other_session = api.login().json
    api.refresh(one["refresh_token"])
    assert api.refresh(one["refresh_token"]).json["error"]["code"] == "token_reused"
    assert api.refresh(other_session["refresh_token"]).status_code == 200


def test_an_unknown_refresh_token_is_refused(api):
    api.signed_in()
    response = api.refresh("not-a-token-we-issued")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_an_expired_refresh_token_is_refused(api, runtime):
    token = api.signed_in()["refresh_token"]
    with runtime.sessions() as session:
        session.execute(
            update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    response = api.refresh(token)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_logout_revokes_the_family_of_the_given_refresh_token(api):
    tokens = api.signed_in()
    other = api.login().json
    response = api.logout(tokens["access_token"], refresh_token=other["refresh_token"])
    assert response.status_code == 204
    assert response.data == b""
    assert api.refresh(other["refresh_token"]).json["error"]["code"] == "invalid_token"


def test_logout_without_a_body_ends_the_session_of_the_access_token(api):
    tokens = api.signed_in()
    other = api.login().json
    assert api.logout(tokens["access_token"]).status_code == 204
    assert api.refresh(tokens["refresh_token"]).status_code == 401
    # Another session of the same user goes on.
    assert api.refresh(other["refresh_token"]).status_code == 200


def test_logout_cannot_revoke_another_users_refresh_token(api):
    ada = api.signed_in("ada@example.com")
    bob = api.signed_in("bob@example.com")
    assert api.logout(ada["access_token"], refresh_token=bob["refresh_token"]).status_code == 204
    assert api.refresh(bob["refresh_token"]).status_code == 200


def test_logout_needs_an_access_token(api, client):
    tokens = api.signed_in()
    response = client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.refresh(tokens["refresh_token"]).status_code == 200
