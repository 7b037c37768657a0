"""Platform administrators: a role over what every org shares, never given by owning an org."""

from __future__ import annotations

import jwt
from flask.testing import FlaskCliRunner


def _claims(tokens: dict) -> dict:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})


def _cli(app, *args):
    result = FlaskCliRunner(app).invoke(args=["admin", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_self_registered_owner_is_not_a_platform_admin(api):
    tokens = api.signed_in()

    assert _claims(tokens)["role"] == "owner"
    assert "platform_admin" not in _claims(tokens)
    assert api.me(tokens["access_token"]).json["platform_admin"] is False


def test_the_cli_grants_the_role_into_the_next_token_and_revoking_ends_sessions(app, api):
    api.signed_in()
    _cli(app, "grant-platform-admin", "ada@example.com")
    granted = api.login().json

    assert _claims(granted)["platform_admin"] is True
    assert api.me(granted["access_token"]).json["platform_admin"] is True
    assert _claims(api.refresh(granted["refresh_token"]).json)["platform_admin"] is True

    _cli(app, "revoke-platform-admin", "ada@example.com")
    assert api.me(granted["access_token"]).status_code == 401  # the old token is dead
    assert "platform_admin" not in _claims(api.login().json)
    events = _cli(app, "audit", "--event", "platform_admin.revoked")
    assert "platform_admin.revoked" in events


def test_a_configured_email_is_a_platform_admin_without_the_cli(make_app, api_for):
    api = api_for(make_app(platform_admin_emails=" Ops@Example.com ,x@example.com"))
    api.register("ops@example.com")
    api.register("eve@example.com")

    assert _claims(api.login("ops@example.com").json)["platform_admin"] is True
    assert "platform_admin" not in _claims(api.login("eve@example.com").json)


def test_the_email_list_is_read_from_the_environment(monkeypatch):
    from chatlens.auth.config import AuthSettings

    monkeypatch.setenv("PLATFORM_ADMIN_EMAILS", "a@example.com, B@example.com")

    assert AuthSettings().platform_admin_emails == {"a@example.com", "b@example.com"}
