"""Security headers on every auth response (issue 15.6), whatever the status."""

from __future__ import annotations

import pytest

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/.well-known/jwks.json", 200),
        ("get", "/api/v1/me", 401),
        ("post", "/api/v1/auth/login", 415),
        ("get", "/api/v1/nowhere", 404),
        ("get", "/healthz", 200),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = getattr(client, method)(path)

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY} == SECURITY


def test_a_bad_json_body_is_described_by_position_only(client):
    response = client.post(
        "/api/v1/auth/login", data=b'{"email": tru', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json["error"]["message"] == "the body is not valid JSON (line 1, column 11)"
