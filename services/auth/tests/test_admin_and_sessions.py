"""The admin CLI, and the sessions list with revoke."""

from __future__ import annotations

import json

import jwt
from flask.testing import FlaskCliRunner

PASSWORD = "correct horse battery staple"


def _cli(app, *args, input=None):
    result = FlaskCliRunner(app).invoke(args=["admin", *args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_creates_users_and_orgs_grants_roles_and_lists_audit(app, api):
    created = json.loads(
        _cli(
            app,
            "create-user",
            "ada@example.com",
            "--name",
            "Ada",
            input=f"{PASSWORD}\n{PASSWORD}\n",
        ).splitlines()[-1]
    )
    assert created["email"] == "ada@example.com"
    org = json.loads(_cli(app, "create-org", "Research", "--owner", "ada@example.com"))
    api.register("bob@example.com")
    _cli(app, "grant-role", "bob@example.com", org["id"], "analyst")
    bob = api.login("bob@example.com").json
    switched = api.switch(bob["refresh_token"], org["id"]).json
    claims = jwt.decode(switched["access_token"], options={"verify_signature": False})
    assert claims["role"] == "analyst"
    events = [json.loads(line) for line in _cli(app, "audit", "--org", org["id"]).splitlines()]
    assert [e["event"] for e in events] == ["role.changed", "org.created"]
    assert events[0]["details"]["via"] == "cli"


def test_the_cli_refuses_weak_passwords_and_unknown_users(app):
    weak = FlaskCliRunner(app).invoke(
        args=["admin", "create-user", "ada@example.com", "--password", "password123456"]
    )
    assert weak.exit_code != 0 and "common" in weak.output
    missing = FlaskCliRunner(app).invoke(args=["admin", "disable", "nobody@example.com"])
    assert missing.exit_code != 0 and "no user" in missing.output


def test_disabling_from_the_cli_ends_sessions_at_once(app, api):
    tokens = api.signed_in()
    _cli(app, "disable", "ada@example.com")
    assert api.me(tokens["access_token"]).status_code == 401
    assert api.login().status_code == 401
    _cli(app, "enable", "ada@example.com")
    assert api.login().status_code == 200


def test_sessions_are_listed_with_device_address_and_last_seen_and_can_be_revoked(api, client):
    client.post("/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD})
    phone = client.post(
        "/api/v1/auth/login",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"User-Agent": "Phone/1.0", "X-Forwarded-For": "198.51.100.7"},
    ).json
    laptop = api.login().json
    listed = api.call("GET", "/api/v1/auth/sessions", laptop["access_token"]).json["sessions"]
    assert len(listed) == 2
    by_agent = {s["user_agent"]: s for s in listed}
    assert by_agent["Phone/1.0"]["address"] == "198.51.100.7"
    assert by_agent["Phone/1.0"]["current"] is False and by_agent["Phone/1.0"]["last_seen_at"]
    phone_sid = by_agent["Phone/1.0"]["id"]
    assert (
        api.call("DELETE", f"/api/v1/auth/sessions/{phone_sid}", laptop["access_token"]).status_code
        == 204
    )
    assert api.me(phone["access_token"]).status_code == 401
    assert api.refresh(phone["refresh_token"]).status_code == 401
    remaining = api.call("GET", "/api/v1/auth/sessions", laptop["access_token"]).json["sessions"]
    assert [s["current"] for s in remaining] == [True]


def test_another_users_session_cannot_be_revoked(api):
    ada = api.signed_in("ada@example.com")
    eve = api.signed_in("eve@example.com")
    ada_sid = jwt.decode(ada["access_token"], options={"verify_signature": False})["sid"]
    response = api.call("DELETE", f"/api/v1/auth/sessions/{ada_sid}", eve["access_token"])
    assert response.status_code == 404
    assert api.me(ada["access_token"]).status_code == 200


def test_the_cli_keeps_an_orgs_last_owner(app):
    _cli(app, "create-user", "ada@example.com", "--password", PASSWORD)
    org = json.loads(_cli(app, "create-org", "Research", "--owner", "ada@example.com"))
    demoted = FlaskCliRunner(app).invoke(
        args=["admin", "grant-role", "ada@example.com", org["id"], "viewer"]
    )
    assert demoted.exit_code != 0 and "last owner" in demoted.output
