"""Password rules, password change, and login throttling that does not lock the real user out."""

from __future__ import annotations

import pytest

from chatlens.auth.errors import PasswordRejected
from chatlens.auth.password_policy import PasswordPolicy
from chatlens.auth.runtime import EXTENSION

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different, longer passphrase"


@pytest.fixture(scope="module")
def policy() -> PasswordPolicy:
    return PasswordPolicy.packaged()


def test_the_packaged_list_has_thousands_of_common_passwords(policy):
    assert len(policy.common) >= 9000
    assert {"password", "123456", "qwerty123456", "1qaz2wsx3edc"} <= policy.common


@pytest.mark.parametrize(
    "password",
    [
        "qwerty123456",
        "1QAZ2WSX3EDC",
        "password1234",
        "monkey123456!",
        "  iloveyou2024  ",
        "aaaaaaaaaaaaaaaa",
        "abababababab",
        "ada.lovelace@example.com",
        "ada.lovelace2024!",
    ],
)
def test_common_repetitive_and_email_based_passwords_are_refused(policy, password):
    with pytest.raises(PasswordRejected):
        policy.check(password, "ada.lovelace@example.com")


@pytest.mark.parametrize(
    "password", [PASSWORD, "x" * 60 + "Yz1!abc", "Überfahrt im Nebel 7", "ada-password-chatlens"]
)
def test_good_passwords_pass(policy, password):
    policy.check(password, "ada@example.com")


def test_register_refuses_a_common_password_with_a_clear_422(api):
    response = api.register(password="password123456")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "weak_password"
    assert api.login(password="password123456").status_code == 401


def test_a_128_character_password_is_kept_whole(api):
    long = ("violet quasar tundra mosaic " * 5)[:127] + "!"  # strong, not a 26-letter run
    assert api.register(password=long).status_code == 201
    assert api.login(password=long).status_code == 200
    assert api.login(password=long[:-1]).status_code == 401  # not truncated


def test_password_change_ends_other_sessions_and_returns_a_new_pair(api):
    tokens = api.signed_in()
    other = api.login().json
    changed = api.call(
        "POST",
        "/api/v1/auth/password",
        tokens["access_token"],
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.json
    for old in (tokens, other):
        assert api.me(old["access_token"]).status_code == 401
        assert api.refresh(old["refresh_token"]).status_code == 401
    assert api.me(changed.json["access_token"]).status_code == 200
    assert api.login().status_code == 401
    assert api.login(password=NEW_PASSWORD).status_code == 200


def test_password_change_needs_the_current_password_and_a_good_new_one(api):
    tokens = api.signed_in()
    path = "/api/v1/auth/password"
    wrong = api.call(
        "POST",
        path,
        tokens["access_token"],
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_credentials"
    weak = api.call(
        "POST",
        path,
        tokens["access_token"],
        {"current_password": PASSWORD, "new_password": "qwerty123456"},
    )
    assert weak.status_code == 422
    assert api.me(tokens["access_token"]).status_code == 200
    assert api.login().status_code == 200


def _login_from(client, address: str, password: str = "wrong password!!", email="ada@example.com"):
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


def test_repeated_failures_from_one_address_get_429_with_retry_after(api, client):
    api.register()
    for _ in range(5):
        assert _login_from(client, "203.0.113.7").status_code == 401
    throttled = _login_from(client, "203.0.113.7", PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json["error"]["code"] == "too_many_attempts"
    assert 0 < int(throttled.headers["Retry-After"]) <= 300
    # The real user, elsewhere, is not affected.
    assert _login_from(client, "198.51.100.1", PASSWORD).status_code == 200


def test_unknown_and_registered_emails_are_throttled_alike(api, client):
    api.register()
    answers = {}
    for email in ("ada@example.com", "nobody@example.com"):
        statuses = [_login_from(client, "203.0.113.9", email=email).status_code for _ in range(6)]
        answers[email] = statuses
    assert answers["ada@example.com"] == answers["nobody@example.com"] == [401] * 5 + [429]


def test_a_distributed_guess_cannot_lock_out_an_address_the_user_signed_in_from(api, client):
    api.register()
    assert _login_from(client, "192.0.2.10", PASSWORD).status_code == 200  # the user's home
    for i in range(20):  # the attacker rotates addresses: the per-account window fills
        assert _login_from(client, f"203.0.113.{i}").status_code == 401
    assert _login_from(client, "203.0.113.200", PASSWORD).status_code == 429
    assert _login_from(client, "192.0.2.10", PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(make_app):
    client = make_app(login_limit_per_address="3 per 15 minutes").test_client()
    statuses = [
        _login_from(client, "203.0.113.50", email=f"user{i}@example.com").status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_a_sign_in_that_finds_every_hashing_slot_taken_is_a_503_with_retry_after(make_app):
    """A sign-in storm: the hashes in progress hold both slots; the next sign-in is refused at
    once (nothing recorded, nothing throttled) instead of queueing, and goes through after."""
    app = make_app(password_hash_slots=1, password_hash_wait_s=0.05)
    client = app.test_client()
    assert client.post(
        "/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    ).status_code in (200, 201)
    slots = app.extensions[EXTENSION].passwords._slots
    assert slots.acquire(timeout=1)  # a hash in progress
    try:
        for email in ("ada@example.com", "nobody@example.com"):  # known or not: the same
            busy = _login_from(client, "203.0.113.60", PASSWORD, email=email)
            assert busy.status_code == 503
            assert busy.json["error"]["code"] == "busy"
            assert busy.headers["Retry-After"] == "1"
    finally:
        slots.release()
    assert _login_from(client, "203.0.113.60", PASSWORD).status_code == 200
