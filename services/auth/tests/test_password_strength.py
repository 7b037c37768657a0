"""Password strength (zxcvbn with the user's own words) on every path that sets a password."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner

from chatlens.auth.password_policy import PasswordPolicy, personal_words

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("email", "name", "password"),
    [
        ("probe.user@example.com", None, "probe.user@example.com"),  # the probe's: the email itself
        ("probe.user@example.com", None, "PROBE.USER@EXAMPLE.COM"),
        ("ada.lovelace@example.com", "Ada Lovelace", "adalovelace1815!"),
        ("grace@example.com", "Grace Hopper", "GraceHopper2024"),
        ("x@example.com", None, "qwertyuiopasdf"),
        ("x@example.com", None, "aaaaaaaaaaab"),
    ],
)
def test_registration_refuses_guessable_and_personal_passwords(api, email, name, password):
    body = {"name": name} if name else {}

    refused = api.register(email, password, **body)

    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["code"] == "weak_password"
    assert api.login(email, password).status_code == 401  # nothing was created


def test_a_strong_passphrase_is_accepted_and_the_refusal_says_why(api):
    assert api.register("ada@example.com", PASSWORD, name="Ada").status_code == 201
    refused = api.register("grace@example.com", "GraceHopper2024", name="Grace Hopper")
    assert "too easy to guess" in refused.json["error"]["message"]


def test_changing_the_password_to_ones_name_is_refused(api):
    tokens = api.signed_in()
    changed = api.client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "ada@example.com!!"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert changed.status_code == 422 and changed.json["error"]["code"] == "weak_password"


def test_the_cli_applies_the_same_estimator_with_the_name(app):
    result = FlaskCliRunner(app).invoke(
        args=[
            "admin",
            "create-user",
            "grace@example.com",
            "--name",
            "Grace Hopper",
            "--password",
            "gracehopper1906",
        ]
    )

    assert result.exit_code != 0 and "guess" in result.output


def test_personal_words_hold_the_email_its_parts_and_the_name():
    words = personal_words("Ada.Lovelace@Example.com", "Ada Lovelace")

    assert {
        "ada.lovelace@example.com",
        "ada.lovelace",
        "adalovelace",
        "lovelace",
        "ada lovelace",
    } <= set(words)


def test_an_overlong_password_is_estimated_on_its_first_characters():
    PasswordPolicy(frozenset()).check("Zq8#vLm2@pT5!rW9" * 64, "ada@example.com")
