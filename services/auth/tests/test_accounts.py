"""Registering, logging in and reading /me."""

from __future__ import annotations

from sqlalchemy import select, update

from chatlens.auth.tables import Membership, User

PASSWORD = "correct horse battery staple"


def test_register_then_login_then_me_returns_the_user_and_their_personal_org(api):
    registered = api.register("Ada@Example.com", PASSWORD, name="Ada")
    assert registered.status_code == 201
    body = registered.json
    assert body["email"] == "ada@example.com"
    assert body["name"] == "Ada"
    assert body["org"]["role"] == "owner" and body["org"]["name"]

    tokens = api.login("ADA@example.com", PASSWORD)
    assert tokens.status_code == 200
    assert tokens.json["token_type"] == "Bearer"
    assert tokens.json["expires_in"] == 900
    assert tokens.headers["Cache-Control"] == "no-store"

    me = api.me(tokens.json["access_token"])
    assert me.status_code == 200
    assert me.json == body | {"platform_admin": False}


def test_register_stores_an_argon2id_hash_and_an_owner_membership(api, runtime):
    user_id = api.register().json["id"]
    with runtime.sessions() as session:
        user = session.get(User, user_id)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        roles = session.scalars(select(Membership.role).where(Membership.user_id == user_id)).all()
    assert roles == ["owner"]


def test_registering_an_email_twice_is_a_conflict_whatever_its_case(api):
    assert api.register("ada@example.com").status_code == 201
    again = api.register("ADA@example.com")
    assert again.status_code == 409
    assert again.json["error"]["code"] == "email_taken"


def test_wrong_password_and_unknown_email_get_the_same_answer(api):
    api.register()
    wrong_password = api.login("ada@example.com", "not the password at all")
    unknown_email = api.login("nobody@example.com", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json == unknown_email.json
    assert wrong_password.json["error"]["code"] == "invalid_credentials"


def test_a_disabled_user_cannot_log_in_refresh_or_read_me(api, runtime):
    tokens = api.signed_in()
    with runtime.sessions() as session:
        session.execute(update(User).values(disabled=True))
        session.commit()
    assert api.login().json["error"]["code"] == "invalid_credentials"
    assert api.refresh(tokens["refresh_token"]).status_code == 401
    assert api.me(tokens["access_token"]).status_code == 401


def test_login_rehashes_a_password_hashed_with_older_parameters(api, make_app):
    api.register()
    stronger = make_app(argon2_time_cost=2).test_client()
    response = stronger.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    runtime = stronger.application.extensions["chatlens.auth"]
    with runtime.sessions() as session:
        stored = session.scalar(select(User.password_hash))
    assert ",t=2," in stored
    assert not runtime.passwords.needs_rehash(stored)


def test_a_password_matches_however_its_accents_are_encoded(api):
    composed = "caf\u00e9 au lait, s'il vous pla\u00eet"
    decomposed = "cafe\u0301 au lait, s'il vous plai\u0302t"
    assert composed != decomposed
    assert api.register(password=composed).status_code == 201
    assert api.login(password=decomposed).status_code == 200


def test_health_and_readiness_answer_and_the_correlation_id_is_echoed(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz", headers={"X-Correlation-ID": "abc123"})
    assert ready.status_code == 200
    assert ready.headers["X-Correlation-ID"] == "abc123"
