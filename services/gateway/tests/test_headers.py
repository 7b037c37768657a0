"""What every gateway response says about itself (issue 15.6): security headers, a JSON CSP,
Server-Timing only when asked for, error bodies without library wording, and a correlation id
taken only when it is safe."""

from __future__ import annotations

import pytest

from chatlens.gateway.app import create_app

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def product(settings):
    """The gateway with the product's defaults for what these tests check."""
    app = create_app(settings.model_copy(update={"server_timing": False}))
    yield app.test_client()
    app.extensions["chatlens.bus"].close()
    app.extensions["chatlens.engine"].dispose()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/collections", 200),
        ("get", "/api/v1/collections/nope", 404),
        ("get", "/api/v1/nothing-here", 404),
        ("post", "/api/v1/collections", 415),
        ("get", "/healthz", 200),
    ],
)
def test_every_response_carries_the_security_headers(product, auth, method, path, status):
    response = getattr(product, method)(path, headers=auth())

    assert response.status_code == status
    assert {k: response.headers.get(k) for k in SECURITY} == SECURITY
    assert response.headers["Content-Security-Policy"] == JSON_CSP


def test_the_docs_page_keeps_its_own_policy_and_is_not_framed(product):
    response = product.get("/api/docs/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers.get("Content-Security-Policy") != JSON_CSP


def test_server_timing_is_only_for_platform_admins_unless_turned_on(product, auth):
    user = product.get("/api/v1/collections", headers=auth())
    admin = product.get("/api/v1/collections", headers=auth(platform_admin=True))
    anonymous = product.get("/api/v1/collections")

    assert "Server-Timing" not in user.headers
    assert "Server-Timing" not in anonymous.headers
    assert admin.headers["Server-Timing"].endswith(tuple(f"{d}" for d in range(10)))


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
    ],
)
def test_a_bad_token_is_refused_without_pyjwts_words(product, token):
    response = product.get("/api/v1/collections", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json["error"] == {"code": "invalid_token", "message": "the token is invalid"}


def test_a_forged_signature_is_refused_with_the_same_words(product, make_token):
    token = make_token()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    response = product.get("/api/v1/collections", headers={"Authorization": f"Bearer {forged}"})

    assert response.json["error"]["message"] == "the token is invalid"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": ', "the body is not valid JSON (line 1, column 10)"),
        (b'{"name": "\xc3\x28"}', "the body is not UTF-8"),
    ],
)
def test_a_bad_json_body_says_where_not_the_decoders_words(product, auth, body, message):
    response = product.post(
        "/api/v1/collections", data=body, headers=auth(), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json["error"]["message"] == message


@pytest.mark.parametrize(
    "incoming",
    [
        "a" * 65,
        "abc def",
        "abc\tdef",
        "évian",
        "<script>",
        "a;b",
        "",
        "-leading-dash",
    ],
)
def test_an_unsafe_correlation_id_is_replaced(product, incoming):
    response = product.get("/healthz", headers={"X-Correlation-ID": incoming})

    assert response.headers["X-Correlation-ID"] != incoming
    assert len(response.headers["X-Correlation-ID"]) == 32


@pytest.mark.parametrize("incoming", ["a" * 64, "req-1.2:3_x", "0f3c9a"])
def test_a_safe_correlation_id_is_echoed(product, incoming):
    assert (
        product.get("/healthz", headers={"X-Correlation-ID": incoming}).headers["X-Correlation-ID"]
        == incoming
    )
