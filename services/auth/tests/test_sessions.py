"""Sessions end at once: logout, re-use, "everywhere", disable; and the signed revocation feed."""

from __future__ import annotations

import time

import jwt
from sqlalchemy import select

from chatlens.auth import accounts
from chatlens.auth.tables import User


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _feed(client, runtime) -> dict:
    response = client.get("/internal/v1/revocations")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = response.json["token"]
    key = runtime.signing_key
    assert jwt.get_unverified_header(token)["kid"] == key.kid
    return jwt.decode(
        token, key.public_key, algorithms=[key.alg], audience="chatlens", issuer="chatlens-auth"
    )


def test_logout_kills_the_access_token_of_that_session_only(api):
    tokens = api.signed_in()
    other = api.login().json
    assert api.logout(tokens["access_token"]).status_code == 204
    assert api.me(tokens["access_token"]).status_code == 401
    assert api.me(other["access_token"]).status_code == 200


def test_refresh_token_reuse_kills_the_access_tokens_of_its_family(api):
    first = api.signed_in()
    second = api.refresh(first["refresh_token"]).json
    assert api.refresh(first["refresh_token"]).json["error"]["code"] == "token_reused"
    assert api.me(second["access_token"]).status_code == 401
    assert api.me(first["access_token"]).status_code == 401


def test_logout_everywhere_ends_every_session_and_a_new_login_works(api):
    one = api.signed_in()
    two = api.login().json
    assert api.call("POST", "/api/v1/auth/logout-all", one["access_token"]).status_code == 204
    for tokens in (one, two):
        assert api.me(tokens["access_token"]).status_code == 401
        assert api.refresh(tokens["refresh_token"]).status_code == 401
    fresh = api.login().json
    assert api.me(fresh["access_token"]).status_code == 200


def test_disabling_an_account_ends_its_sessions_and_enabling_does_not_revive_them(api, runtime):
    tokens = api.signed_in()
    with runtime.sessions() as session:
        user_id = session.scalar(select(User.id))
        assert accounts.set_disabled(session, user_id, True)
        session.commit()
    assert api.me(tokens["access_token"]).status_code == 401
    with runtime.sessions() as session:
        accounts.set_disabled(session, user_id, False)
        session.commit()
    assert api.me(tokens["access_token"]).status_code == 401
    assert api.refresh(tokens["refresh_token"]).status_code == 401
    assert api.login().status_code == 200


def test_the_revocation_feed_is_signed_and_lists_ended_sessions_and_users(api, client, runtime):
    ada = api.signed_in("ada@example.com")
    bob = api.signed_in("bob@example.com")
    empty = _feed(client, runtime)
    assert empty["typ"] == "revocations" and empty["exp"] - empty["iat"] == 60
    assert empty["sessions"] == {} and empty["users"] == {}

    api.logout(ada["access_token"])
    api.call("POST", "/api/v1/auth/logout-all", bob["access_token"])
    feed = _feed(client, runtime)
    ada_claims, bob_claims = _claims(ada["access_token"]), _claims(bob["access_token"])
    assert ada_claims["sid"] in feed["sessions"] and bob_claims["sid"] in feed["sessions"]
    assert list(feed["users"]) == [bob_claims["sub"]]
    # The rule a verifier applies: dead if the sid is listed or iat < the user's valid-after.
    assert feed["users"][bob_claims["sub"]] <= int(time.time())
    assert feed["until"] - feed["since"] == 900 + 60


def test_the_feed_token_is_not_an_access_token(api, client, runtime):
    api.signed_in()
    token = client.get("/internal/v1/revocations").json["token"]
    assert api.me(token).status_code == 401
