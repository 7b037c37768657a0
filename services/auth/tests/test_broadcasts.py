"""Revocations broadcast after commit (issue 15.4): each kind of ending publishes one
``AccessRevoked`` naming what the signed feed lists, only once its transaction commits; a rolled
back one publishes nothing, and a publish that fails leaves the committed revocation standing.
The broadcast's way over a real RabbitMQ to two gateways is services/gateway/tests/
test_revocation_push.py; here the publish function records what it is given."""

from __future__ import annotations

import logging

import jwt
import pytest

from chatlens.auth import sessions
from chatlens.auth.broadcasts import RevocationBroadcaster
from chatlens.shared.schemas import AccessRevoked, ProviderSecretsChanged


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def heard(runtime):
    messages: list[AccessRevoked] = []
    broadcaster = RevocationBroadcaster(messages.append).attach(runtime.sessions)

    def flushed() -> list[AccessRevoked]:
        broadcaster.flush()
        return messages

    return flushed


def test_a_logout_broadcasts_its_session_and_logout_everywhere_the_user(api, heard):
    tokens = api.signed_in()
    other = api.login().json
    heard().clear()  # signing in ends nothing
    assert api.logout(tokens["access_token"]).status_code == 204
    [logout] = heard()
    assert set(logout.sessions) == {_claims(tokens["access_token"])["sid"]}
    assert logout.users == {} and logout.api_keys == []

    assert api.call("POST", "/api/v1/auth/logout-all", other["access_token"]).status_code == 204
    everywhere = heard()[1]
    user_id = _claims(other["access_token"])["sub"]
    assert list(everywhere.users) == [user_id]
    assert everywhere.users[user_id] >= _claims(other["access_token"])["iat"]
    assert _claims(other["access_token"])["sid"] in everywhere.sessions


def test_a_revoked_api_key_is_broadcast_by_its_id(api, heard):
    tokens = api.signed_in()
    key = api.call(
        "POST",
        "/api/v1/auth/api-keys",
        tokens["access_token"],
        json={"name": "script", "scopes": ["collections:read"]},
    ).json
    assert (
        api.call("DELETE", f"/api/v1/auth/api-keys/{key['id']}", tokens["access_token"]).status_code
        == 204
    )
    assert [m.api_keys for m in heard()] == [[key["id"]]]


def test_a_rolled_back_revocation_is_never_broadcast(api, runtime, heard):
    tokens = api.signed_in()
    user_id = _claims(tokens["access_token"])["sub"]
    with runtime.sessions() as session:
        sessions.end_all(session, user_id, reason="test")
        session.rollback()
        session.commit()  # a later commit of the same session carries nothing either
    assert heard() == []
    assert api.me(tokens["access_token"]).status_code == 200


def test_a_failed_publish_is_logged_and_the_revocation_stands(api, runtime, caplog):
    def broken(message):
        raise ConnectionError("the broker is away")

    broadcaster = RevocationBroadcaster(broken).attach(runtime.sessions)
    tokens = api.signed_in()
    with caplog.at_level(logging.WARNING, logger="chatlens.auth.broadcasts"):
        assert api.logout(tokens["access_token"]).status_code == 204
        broadcaster.flush()
    assert "could not broadcast a revocation" in caplog.text
    assert api.me(tokens["access_token"]).status_code == 401


def test_a_stored_replaced_or_deleted_provider_secret_is_broadcast_by_name(api, runtime, heard):
    """Every inference replica drops its kept copy of the key (issue 16); never the value."""
    tokens = api.signed_in()
    path = "/api/v1/auth/secrets/team-llm"
    for value in ("sk-first-0123456789", "sk-second-0123456789"):
        assert (
            api.call(
                "PUT", path, tokens["access_token"], json={"provider": "openai", "value": value}
            ).status_code
            == 200
        )
    assert api.call("DELETE", path, tokens["access_token"]).status_code == 204
    changes = [m for m in heard() if isinstance(m, ProviderSecretsChanged)]
    org_id = _claims(tokens["access_token"])["org"]
    assert [(m.org_id, m.names) for m in changes] == [(org_id, ["team-llm"])] * 3
    assert "sk-" not in "".join(m.model_dump_json() for m in changes)
