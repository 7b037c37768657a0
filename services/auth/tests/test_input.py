"""Bad input gets a clear 4xx in the {"error": {"code", "message"}} shape, never a 500."""

from __future__ import annotations

import io
import json

import pytest

REGISTER = "/api/v1/auth/register"
GOOD = {"email": "ada@example.com", "password": "correct horse battery staple"}

CASES = [
    ("not_json", "text/plain", b"email=ada@example.com", 415, "unsupported_media_type"),
    ("invalid_json", "application/json", b'{"email": ', 400, "invalid_json"),
    (
        "nan",
        "application/json",
        b'{"email": "a@example.com", "password": NaN}',
        400,
        "invalid_json",
    ),
    ("deep_nesting", "application/json", b"[" * 10_000 + b"]" * 10_000, 400, "invalid_json"),
    ("not_an_object", "application/json", b'["a", "b"]', 422, "validation_error"),
    (
        "unknown_field",
        "application/json",
        json.dumps({**GOOD, "admin": True}).encode(),
        422,
        "validation_error",
    ),
    (
        "short_password",
        "application/json",
        json.dumps({**GOOD, "password": "short"}).encode(),
        422,
        "validation_error",
    ),
    (
        "long_password",
        "application/json",
        json.dumps({**GOOD, "password": "x" * 1025}).encode(),
        422,
        "validation_error",
    ),
    (
        "bad_email",
        "application/json",
        json.dumps({**GOOD, "email": "not-an-email"}).encode(),
        422,
        "validation_error",
    ),
    (
        "long_name",
        "application/json",
        json.dumps({**GOOD, "name": "n" * 201}).encode(),
        422,
        "validation_error",
    ),
    (
        "password_not_a_string",
        "application/json",
        json.dumps({**GOOD, "password": 1234567890123}).encode(),
        422,
        "validation_error",
    ),
    (
        "two_megabytes",
        "application/json",
        json.dumps({**GOOD, "name": "n" * (2 << 20)}).encode(),
        413,
        "body_too_large",
    ),
]


@pytest.mark.parametrize(
    ("case", "content_type", "body", "status", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_register_bodies_are_refused_with_a_json_error(
    client, case, content_type, body, status, code
):
    response = client.post(REGISTER, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    # Nothing was created.
    assert client.post("/api/v1/auth/login", json=GOOD).status_code == 401


def test_a_chunked_body_over_the_limit_is_refused_not_truncated(client):
    body = io.BytesIO(b'{"email": "ada@example.com", "name": "' + b"n" * (2 << 20) + b'"}')
    response = client.post(
        REGISTER,
        input_stream=body,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        # What gunicorn says of a chunked body it de-chunks.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"


def test_every_endpoint_refuses_unknown_fields(api, client):
    access = api.signed_in()["access_token"]
    for path, headers in [
        ("/api/v1/auth/login", {}),
        ("/api/v1/auth/refresh", {}),
        ("/api/v1/auth/logout", {"Authorization": f"Bearer {access}"}),
    ]:
        response = client.post(path, json={"unexpected": 1}, headers=headers)
        assert response.status_code == 422, path
        assert response.json["error"]["code"] == "validation_error"


def test_unknown_paths_and_methods_answer_json(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong_method = client.get(REGISTER)
    assert wrong_method.status_code == 405 and "error" in wrong_method.json


@pytest.mark.parametrize(
    "name",
    ["Ada\x00", "Ada\u202e", "\u200b\u200b", "\u3164", "A\nB"],
    ids=["nul", "bidi_override", "zero_width_only", "hangul_filler", "line_break"],
)
def test_names_with_controls_overrides_or_nothing_visible_are_refused_and_nothing_is_made(
    api, name
):
    """The one rule for user text (chatlens.shared.text) on every name auth stores."""
    refused = api.register(name=name)
    assert refused.status_code == 422 and refused.json["error"]["code"] == "validation_error"
    assert api.login().status_code == 401  # no account was made
    tokens = api.signed_in()
    for path, body in (
        ("/api/v1/auth/orgs", {"name": name}),
        ("/api/v1/auth/api-keys", {"name": name, "scopes": ["search:read"]}),
    ):
        response = api.call("POST", path, tokens["access_token"], json=body)
        assert response.status_code == 422, (path, response.json)
    assert len(api.call("GET", "/api/v1/auth/orgs", tokens["access_token"]).json["orgs"]) == 1
    assert api.call("GET", "/api/v1/auth/api-keys", tokens["access_token"]).json["api_keys"] == []


def test_names_are_stored_nfc_and_trimmed(api):
    assert api.register(name="  Zoe\u0308 ").status_code == 201
    tokens = api.login().json
    assert api.me(tokens["access_token"]).json["name"] == "Zo\u00eb"
