"""The audit log: events with who, when, where and org; readable by org admins; append-only."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

PASSWORD = "correct horse battery staple"
AUDIT = "/api/v1/auth/audit"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_logins_failures_and_admin_actions_are_recorded_with_who_and_where(api, client):
    tokens = api.signed_in()
    client.post(
        "/api/v1/auth/login",
        json={"email": "ada@example.com", "password": "wrong!!"},
        headers={"X-Forwarded-For": "203.0.113.5", "User-Agent": "curl/8"},
    )
    api.call(
        "POST",
        "/api/v1/auth/api-keys",
        tokens["access_token"],
        {"name": "k", "scopes": ["search:read"]},
    )
    response = api.call("GET", AUDIT, tokens["access_token"])
    assert response.status_code == 200
    events = response.json["events"]
    claims = _claims(tokens["access_token"])
    names = [e["event"] for e in events]
    assert names == ["api_key.created", "login.succeeded", "user.registered"]
    assert all(e["org_id"] == claims["org"] and e["actor_id"] == claims["sub"] for e in events)
    assert events[0]["details"] == {"scopes": ["search:read"]}
    assert events[0]["at"] and events[0]["correlation_id"]
    # A failed login names no org: it is in the log, for the admin CLI.
    with_failures = client.application.extensions["chatlens.auth"]
    from chatlens.auth import audit

    with with_failures.sessions() as session:
        failed = audit.events(session, None, 10, event="login.failed")
    assert failed[0]["target"] == "ada@example.com"
    assert failed[0]["address"] == "203.0.113.5" and failed[0]["user_agent"] == "curl/8"


def test_refresh_token_reuse_and_role_changes_are_recorded(api):
    owner = api.signed_in("owner@example.com")
    first = api.refresh(owner["refresh_token"]).json
    api.refresh(owner["refresh_token"])  # re-use
    owner = api.login("owner@example.com").json
    invitation = api.call(
        "POST",
        "/api/v1/auth/invitations",
        owner["access_token"],
        {"email": "bob@example.com", "role": "viewer"},
    ).json
    bob = api.signed_in("bob@example.com")
    api.call(
        "POST",
        "/api/v1/auth/invitations/accept",
        bob["access_token"],
        {"token": invitation["token"]},
    )
    bob_id = _claims(bob["access_token"])["sub"]
    api.call("PATCH", f"/api/v1/auth/members/{bob_id}", owner["access_token"], {"role": "analyst"})
    names = [e["event"] for e in api.call("GET", AUDIT, owner["access_token"]).json["events"]]
    assert names[:3] == ["role.changed", "invitation.accepted", "invitation.created"]
    assert "refresh_token.reused" in names
    assert first


def test_only_admins_read_the_log_and_only_their_orgs_events(api):
    owner = api.signed_in("owner@example.com")
    other = api.signed_in("other@example.com")
    invitation = api.call(
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
        {"token": invitation["token"]},
    )
    viewer = api.switch(viewer["refresh_token"], _claims(owner["access_token"])["org"]).json
    assert api.call("GET", AUDIT, viewer["access_token"]).status_code == 403
    theirs = api.call("GET", AUDIT, other["access_token"]).json["events"]
    assert {e["org_id"] for e in theirs} == {_claims(other["access_token"])["org"]}


def test_paging_and_bad_queries(api):
    tokens = api.signed_in()
    for _ in range(3):
        api.login()
    page = api.call("GET", f"{AUDIT}?limit=2", tokens["access_token"]).json
    assert len(page["events"]) == 2 and page["next_before"] == page["events"][-1]["id"]
    rest = api.call(
        "GET", f"{AUDIT}?limit=2&before={page['next_before']}", tokens["access_token"]
    ).json
    assert rest["events"][0]["id"] < page["next_before"]
    for bad in [
        "limit=0",
        "limit=abc",
        "limit=100000",
        "before=-1",
        "event=DROP%20TABLE",
        "unknown=1",
    ]:
        response = api.call("GET", f"{AUDIT}?{bad}", tokens["access_token"])
        assert response.status_code == 422, bad


def test_services_append_events_but_nothing_can_rewrite_them(api, client, runtime):
    tokens = api.signed_in()
    org = _claims(tokens["access_token"])["org"]
    appended = client.post(
        "/internal/v1/audit",
        json={
            "event": "collection.deleted",
            "org_id": org,
            "actor_id": "u1",
            "target": "c1",
            "details": {"org_id": "spoof", "messages": 12},
        },
    )
    assert appended.status_code == 201
    event = api.call("GET", AUDIT, tokens["access_token"]).json["events"][0]
    assert event["event"] == "collection.deleted" and event["org_id"] == org
    assert event["details"] == {"org_id": "spoof", "messages": 12}
    for bad in [
        {"event": "Not An Event"},
        {"event": "a.b", "details": {"x": {"nested": 1}}},
        {"event": "a.b", "surprise": 1},
    ]:
        assert client.post("/internal/v1/audit", json=bad).status_code == 422
    for statement in ("UPDATE audit_events SET event = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
            conn.execute(text(statement))
