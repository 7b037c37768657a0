"""Every route of the app, whatever it is sent, answers a JSON 4xx (or success), never a 500."""

from __future__ import annotations

import json
import re

import pytest

BODIES = [
    ("no body", None, None),
    ("not json", b"email=a", "text/plain"),
    ("broken json", b'{"a": ', "application/json"),
    ("nan", b'{"a": NaN}', "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("unknown field", json.dumps({"surprise": 1}).encode(), "application/json"),
    (
        "wrong types",
        json.dumps(
            {
                "email": 1,
                "password": [],
                "token": {},
                "code": 5,
                "role": "god",
                "name": None,
                "scopes": "all",
            }
        ).encode(),
        "application/json",
    ),
    ("deep", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("oversize", json.dumps({"name": "n" * (1 << 20)}).encode(), "application/json"),
]
PARAM_VALUES = ["00000000-0000-0000-0000-000000000000", "x" * 2000, "%00", "'; DROP TABLE users"]


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _paths(rule) -> list[str]:
    if not rule.arguments:
        return [rule.rule]
    return [re.sub(r"<[^>]+>", value, rule.rule) for value in PARAM_VALUES]


@pytest.mark.parametrize("authorised", [False, True], ids=["anonymous", "signed_in"])
def test_no_route_answers_500_to_bad_input(app, api, authorised):
    headers = {}
    if authorised:
        api.register()
    client = app.test_client()
    checked = 0
    for rule, method in _routes(app):
        if authorised:  # a fresh session per route: logout and friends end the previous one
            headers["Authorization"] = f"Bearer {api.login().json['access_token']}"
        for path in _paths(rule):
            for name, body, content_type in BODIES:
                response = client.open(
                    path, method=method, data=body, headers=headers, content_type=content_type
                )
                assert response.status_code < 500, (method, path, name, response.json)
                if response.status_code >= 400:
                    assert response.json["error"]["code"], (method, path, name)
                checked += 1
    assert checked > 400


def test_login_and_register_never_say_whether_an_email_is_registered(api, client):
    api.register()
    for email in ("ada@example.com", "nobody@example.com"):
        again = api.register(email, "password123456")  # weak: refused before any lookup
        assert again.status_code == 422 and again.json["error"]["code"] == "weak_password"
    known = api.login("ada@example.com", "wrong password 1")
    unknown = api.login("nobody@example.com", "wrong password 1")
    assert known.json == unknown.json and known.status_code == unknown.status_code
