"""Access tokens: what is accepted, what is refused, and the published keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chatlens.auth import keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _sign(runtime, claims: dict, key=None) -> str:
    return jwt.encode(
        claims,
        key or runtime.signing_key.private_key,
        "RS256",
        headers={"kid": runtime.signing_key.kid},
    )


def _forge(name: str, token: str, runtime, refresh_token: str) -> str:
    good = _claims(token)
    now = int(time.time())
    kid = runtime.signing_key.kid
    if name == "alg_none":
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
        return f"{header}.{_b64(json.dumps(good).encode())}."
    if name == "hs256_with_the_public_key":
        public_pem = runtime.signing_key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = (
            _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
            + "."
            + _b64(json.dumps(good).encode())
        )
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"
    if name == "wrong_key":
        return _sign(runtime, good, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if name == "tampered_payload":
        header, _, signature = token.split(".")
        payload = _b64(json.dumps({**good, "role": "admin", "org": "someone-elses"}).encode())
        return f"{header}.{payload}.{signature}"
    if name == "expired":
        return _sign(runtime, {**good, "iat": now - 1000, "exp": now - 10})
    if name == "wrong_audience":
        return _sign(runtime, {**good, "aud": "someone-else"})
    if name == "wrong_issuer":
        return _sign(runtime, {**good, "iss": "evil-auth"})
    if name == "not_an_access_token":
        return _sign(runtime, {**good, "typ": "refresh"})
    if name == "missing_exp":
        return _sign(runtime, {k: v for k, v in good.items() if k != "exp"})
    if name == "unknown_kid":
        return jwt.encode(good, runtime.signing_key.private_key, "RS256", headers={"kid": "other"})
    if name == "refresh_token_as_access":
        return refresh_token
    if name == "garbage":
        return "a.b.c"
    raise AssertionError(name)


FORGERIES = [
    "alg_none",
    "hs256_with_the_public_key",
    "wrong_key",
    "tampered_payload",
    "expired",
    "wrong_audience",
    "wrong_issuer",
    "not_an_access_token",
    "missing_exp",
    "unknown_kid",
    "refresh_token_as_access",
    "garbage",
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_access_tokens_are_refused(api, runtime, forgery):
    tokens = api.signed_in()
    assert api.me(tokens["access_token"]).status_code == 200  # the genuine one works
    forged = _forge(forgery, tokens["access_token"], runtime, tokens["refresh_token"])
    response = api.me(forged)
    assert response.status_code == 401
    expected = "token_expired" if forgery == "expired" else "invalid_token"
    assert response.json["error"]["code"] == expected
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    assert api.logout(forged).status_code == 401


def test_the_access_token_carries_the_documented_claims(api, runtime):
    tokens = api.signed_in()
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = _claims(tokens["access_token"])
    me = api.me(tokens["access_token"]).json
    assert header["kid"] == runtime.signing_key.kid and header["alg"] == "RS256"
    assert claims["iss"] == "chatlens-auth" and claims["aud"] == "chatlens"
    assert claims["sub"] == me["id"] and claims["org"] == me["org"]["id"]
    assert claims["role"] == "owner" and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]


def test_the_jwks_verifies_a_token_issued_by_login(api, client):
    tokens = api.signed_in()
    published = client.get("/.well-known/jwks.json")
    assert published.status_code == 200
    assert client.get("/api/v1/auth/jwks.json").json == published.json
    (jwk,) = published.json["keys"]
    assert jwk["use"] == "sig" and jwk["alg"] == "RS256" and "d" not in jwk

    key_set = jwt.PyJWKSet.from_dict(published.json)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    claims = jwt.decode(
        tokens["access_token"],
        key_set[kid].key,
        algorithms=["RS256"],
        audience="chatlens",
        issuer="chatlens-auth",
    )
    assert claims["typ"] == "access"


def test_the_kid_is_the_rfc_7638_thumbprint():
    # The example of RFC 7638, section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
        "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65Y"
        "GjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqD"
        "Kgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_key_file_is_created_private_and_reused_on_restart(make_app, tmp_path):
    key_path = tmp_path / "fresh" / "jwt-private.pem"
    first = make_app(jwt_private_key_path=key_path)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    kid = first.test_client().get("/.well-known/jwks.json").json["keys"][0]["kid"]
    first.test_client().post(
        "/api/v1/auth/register",
        json={"email": "ada@example.com", "password": "correct horse battery staple"},
    )
    token = (
        first.test_client()
        .post(
            "/api/v1/auth/login",
            json={"email": "ada@example.com", "password": "correct horse battery staple"},
        )
        .json
    )

    restarted = make_app(jwt_private_key_path=key_path).test_client()
    assert restarted.get("/.well-known/jwks.json").json["keys"][0]["kid"] == kid
    me = restarted.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert list(key_path.parent.iterdir()) == [key_path]  # no temporary file left behind


def test_an_ed25519_key_file_is_accepted_and_published_as_okp(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    path = tmp_path / "ed.pem"
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key = keys.load_or_create(path)
    jwk = key.public_jwk()
    assert key.alg == "EdDSA" and jwk["kty"] == "OKP" and jwk["kid"] == keys.thumbprint(jwk)
    token = jwt.encode({"a": 1}, key.private_key, "EdDSA")
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"]) == {"a": 1}
