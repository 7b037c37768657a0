"""Orgs, roles and permissions: invitations, role changes, removal, switching org."""

from __future__ import annotations

import jwt
import pytest

from chatlens.auth import permissions
from chatlens.auth.bearer import authenticated

PASSWORD = "correct horse battery staple"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _invite(api, token, email, role="analyst"):
    return api.call("POST", "/api/v1/auth/invitations", token, {"email": email, "role": role})


def _join(api, owner_token, email, role="analyst") -> dict:
    """``email`` registers, is invited by the owner, accepts, and switches into the org."""
    org_id = _claims(owner_token)["org"]
    tokens = api.signed_in(email)
    invitation = _invite(api, owner_token, email, role)
    assert invitation.status_code == 201, invitation.json
    accepted = api.call(
        "POST",
        "/api/v1/auth/invitations/accept",
        tokens["access_token"],
        {"token": invitation.json["token"]},
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["org"] == {
        "id": org_id,
        "name": accepted.json["org"]["name"],
        "role": role,
    }
    switched = api.switch(tokens["refresh_token"], org_id)
    assert switched.status_code == 200, switched.json
    return switched.json


def test_each_role_maps_to_its_named_permissions_in_one_table():
    viewer = permissions.permissions_for("viewer")
    analyst = permissions.permissions_for("analyst")
    admin = permissions.permissions_for("admin")
    assert {"search:read", "collections:read"} <= viewer
    assert "uploads:create" not in viewer and "collections:write" not in viewer
    assert viewer < analyst and {"uploads:create", "collections:write"} <= analyst
    assert "members:manage" not in analyst and "audit:read" not in analyst
    assert analyst < admin and {"members:manage", "audit:read"} <= admin
    # Webhooks have their own permission, beside (not inside) the provider secrets' one.
    assert "webhooks:manage" not in analyst and {"webhooks:manage", "secrets:manage"} <= admin
    assert permissions.permissions_for("owner") == admin == permissions.ALL
    assert permissions.permissions_for("superuser") == frozenset()


def test_the_decorator_refuses_an_unknown_permission_name():
    with pytest.raises(ValueError, match="unknown permission"):
        authenticated("collections:destroy")


def test_the_access_token_carries_org_role_and_the_roles_permissions(api):
    tokens = api.signed_in()
    claims = _claims(tokens["access_token"])
    assert claims["role"] == "owner"
    assert claims["perms"] == sorted(permissions.permissions_for("owner"))


def test_an_invited_user_joins_with_the_role_and_switches_org(api):
    owner = api.signed_in("owner@example.com")
    bob = _join(api, owner["access_token"], "bob@example.com", "viewer")
    claims = _claims(bob["access_token"])
    assert claims["org"] == _claims(owner["access_token"])["org"]
    assert claims["role"] == "viewer" and "uploads:create" not in claims["perms"]
    orgs = api.call("GET", "/api/v1/auth/orgs", bob["access_token"]).json
    assert [o["role"] for o in orgs["orgs"]] == ["owner", "viewer"]
    assert orgs["active"] == claims["org"]
    members = api.call("GET", "/api/v1/auth/members", bob["access_token"]).json["members"]
    assert {(m["email"], m["role"]) for m in members} == {
        ("owner@example.com", "owner"),
        ("bob@example.com", "viewer"),
    }


def test_an_invitation_works_once_and_only_for_the_invited_email(api):
    owner = api.signed_in("owner@example.com")
    mallory = api.signed_in("mallory@example.com")
    token = _invite(api, owner["access_token"], "bob@example.com").json["token"]
    accept = "/api/v1/auth/invitations/accept"
    wrong_person = api.call("POST", accept, mallory["access_token"], {"token": token})
    assert wrong_person.status_code == 404
    bob = api.signed_in("bob@example.com")
    assert api.call("POST", accept, bob["access_token"], {"token": token}).status_code == 200
    again = api.call("POST", accept, bob["access_token"], {"token": token})
    assert again.status_code == 404
    assert again.json == wrong_person.json  # one answer for every wrong token


def test_a_revoked_invitation_cannot_be_accepted_and_lists_no_more(api):
    owner = api.signed_in("owner@example.com")
    created = _invite(api, owner["access_token"], "bob@example.com").json
    listed = api.call("GET", "/api/v1/auth/invitations", owner["access_token"]).json
    assert [i["id"] for i in listed["invitations"]] == [created["id"]]
    assert "token" not in listed["invitations"][0]
    path = f"/api/v1/auth/invitations/{created['id']}"
    assert api.call("DELETE", path, owner["access_token"]).status_code == 204
    assert api.call("DELETE", path, owner["access_token"]).status_code == 404
    bob = api.signed_in("bob@example.com")
    response = api.call(
        "POST", "/api/v1/auth/invitations/accept", bob["access_token"], {"token": created["token"]}
    )
    assert response.status_code == 404


def test_viewers_and_analysts_cannot_manage_members(api):
    owner = api.signed_in("owner@example.com")
    viewer = _join(api, owner["access_token"], "viewer@example.com", "viewer")
    analyst = _join(api, owner["access_token"], "analyst@example.com", "analyst")
    for tokens in (viewer, analyst):
        response = _invite(api, tokens["access_token"], "eve@example.com")
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"
        me = _claims(tokens["access_token"])["sub"]
        patch = api.call(
            "PATCH", f"/api/v1/auth/members/{me}", tokens["access_token"], {"role": "admin"}
        )
        assert patch.status_code == 403


def test_an_admin_cannot_create_promote_or_remove_an_owner(api):
    owner = api.signed_in("owner@example.com")
    admin = _join(api, owner["access_token"], "admin@example.com", "admin")
    owner_id = _claims(owner["access_token"])["sub"]
    admin_id = _claims(admin["access_token"])["sub"]
    token = admin["access_token"]
    assert _invite(api, token, "eve@example.com", "owner").status_code == 403
    assert (
        api.call("PATCH", f"/api/v1/auth/members/{admin_id}", token, {"role": "owner"}).status_code
        == 403
    )
    assert api.call("DELETE", f"/api/v1/auth/members/{owner_id}", token).status_code == 403
    assert _invite(api, token, "eve@example.com", "analyst").status_code == 201


def test_the_last_owner_can_be_neither_demoted_nor_removed(api):
    owner = api.signed_in("owner@example.com")
    owner_id = _claims(owner["access_token"])["sub"]
    response = api.call(
        "PATCH", f"/api/v1/auth/members/{owner_id}", owner["access_token"], {"role": "admin"}
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "last_owner"
    removed = api.call("DELETE", f"/api/v1/auth/members/{owner_id}", owner["access_token"])
    assert removed.status_code == 409


def test_a_role_change_ends_the_members_sessions_at_once(api):
    owner = api.signed_in("owner@example.com")
    bob = _join(api, owner["access_token"], "bob@example.com", "analyst")
    bob_id = _claims(bob["access_token"])["sub"]
    changed = api.call(
        "PATCH", f"/api/v1/auth/members/{bob_id}", owner["access_token"], {"role": "viewer"}
    )
    assert changed.status_code == 200 and changed.json["old_role"] == "analyst"
    assert api.me(bob["access_token"]).status_code == 401
    assert api.refresh(bob["refresh_token"]).status_code == 401
    again = api.login("bob@example.com").json
    switched = api.switch(again["refresh_token"], _claims(owner["access_token"])["org"]).json
    assert _claims(switched["access_token"])["role"] == "viewer"


def test_a_removed_member_loses_the_org_and_their_sessions(api):
    owner = api.signed_in("owner@example.com")
    bob = _join(api, owner["access_token"], "bob@example.com")
    bob_id = _claims(bob["access_token"])["sub"]
    assert (
        api.call("DELETE", f"/api/v1/auth/members/{bob_id}", owner["access_token"]).status_code
        == 204
    )
    assert api.me(bob["access_token"]).status_code == 401
    fresh = api.login("bob@example.com").json
    org_id = _claims(owner["access_token"])["org"]
    assert api.switch(fresh["refresh_token"], org_id).status_code == 404
    # The failed switch did not spend the refresh token.
    assert api.refresh(fresh["refresh_token"]).status_code == 200


def test_another_orgs_member_and_invitation_ids_are_not_found(api):
    ada = api.signed_in("ada@example.com")
    eve = api.signed_in("eve@example.com")
    ada_id = _claims(ada["access_token"])["sub"]
    invitation = _invite(api, ada["access_token"], "x@example.com").json
    for method, path, body in [
        ("PATCH", f"/api/v1/auth/members/{ada_id}", {"role": "viewer"}),
        ("DELETE", f"/api/v1/auth/members/{ada_id}", None),
        ("DELETE", f"/api/v1/auth/invitations/{invitation['id']}", None),
        ("DELETE", "/api/v1/auth/members/" + "x" * 500, None),
    ]:
        response = api.call(method, path, eve["access_token"], body)
        assert response.status_code == 404, (method, path)
    assert api.switch(eve["refresh_token"], _claims(ada["access_token"])["org"]).status_code == 404


def test_a_user_creates_another_org_and_switches_between_them(api):
    tokens = api.signed_in()
    created = api.call("POST", "/api/v1/auth/orgs", tokens["access_token"], {"name": "Team"})
    assert created.status_code == 201 and created.json["role"] == "owner"
    switched = api.switch(tokens["refresh_token"], created.json["id"])
    assert switched.status_code == 200
    assert _claims(switched.json["access_token"])["org"] == created.json["id"]
    assert _claims(switched.json["access_token"])["sid"] == _claims(tokens["access_token"])["sid"]
    # Switching spent the old refresh token, like a refresh.
    assert api.refresh(tokens["refresh_token"]).json["error"]["code"] == "token_reused"
