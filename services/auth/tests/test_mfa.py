"""TOTP MFA: RFC 6238 vectors, enrollment with a QR code, login with a code, single use,
recovery codes, throttling of wrong codes, and turning it off."""

from __future__ import annotations

import base64
import hashlib
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from chatlens.auth import totp

PASSWORD = "correct horse battery staple"

# RFC 6238 appendix B: the SHA-1 seed and its 8-digit codes.
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
RFC_SHA256_SEED = base64.b32encode(b"12345678901234567890123456789012").decode()
RFC_SHA256_VECTORS = [(59, "46119246"), (1111111109, "68084774"), (1234567890, "91819424")]


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_the_rfc_6238_sha1_vectors_match_at_their_own_step(at, code):
    assert totp.matching_step(RFC_SEED, code, at, digits=8) == at // 30
    assert totp.matching_step(RFC_SEED, code, at + 30, digits=8) == at // 30  # one step of drift
    assert totp.matching_step(RFC_SEED, code, at + 90, digits=8) is None


@pytest.mark.parametrize(("at", "code"), RFC_SHA256_VECTORS)
def test_the_rfc_6238_sha256_vectors_match(at, code):
    assert (
        totp.matching_step(RFC_SHA256_SEED, code, at, digits=8, digest=hashlib.sha256) == at // 30
    )


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", " 123456"])
def test_malformed_codes_never_match(code):
    assert totp.matching_step(RFC_SEED, code, 59) is None


def _enroll(api, tokens) -> tuple[str, dict]:
    started = api.call("POST", "/api/v1/auth/mfa/totp", tokens["access_token"])
    assert started.status_code == 201
    assert started.headers["Cache-Control"] == "no-store"
    secret = started.json["secret"]
    code = pyotp.TOTP(secret).now()
    confirmed = api.call(
        "POST", "/api/v1/auth/mfa/totp/confirm", tokens["access_token"], {"code": code}
    )
    assert confirmed.status_code == 200, confirmed.json
    return secret, {**confirmed.json, "code": code}


def _login(api, code=None):
    body = {"email": "ada@example.com", "password": PASSWORD}
    if code is not None:
        body["totp"] = code
    return api.client.post("/api/v1/auth/login", json=body)


def _next_step_code(secret: str) -> str:
    """The code of the next time step: fresh, and inside the allowed drift."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrollment_gives_an_otpauth_uri_and_an_svg_qr_code(api):
    tokens = api.signed_in()
    started = api.call("POST", "/api/v1/auth/mfa/totp", tokens["access_token"]).json
    uri = urlparse(started["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [started["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Chatlens"]
    svg = ET.fromstring(started["qr_svg"])
    assert svg.tag.endswith("svg")
    assert api.call("GET", "/api/v1/auth/mfa", tokens["access_token"]).json["totp"] is False


def test_a_wrong_first_code_does_not_turn_mfa_on(api):
    tokens = api.signed_in()
    api.call("POST", "/api/v1/auth/mfa/totp", tokens["access_token"])
    wrong = api.call(
        "POST", "/api/v1/auth/mfa/totp/confirm", tokens["access_token"], {"code": "000000"}
    )
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_mfa_code"
    assert _login(api).status_code == 200


def test_turning_mfa_on_ends_sessions_and_login_then_needs_a_code(api):
    tokens = api.signed_in()
    secret, confirmed = _enroll(api, tokens)
    assert len(confirmed["recovery_codes"]) == 10
    assert api.me(tokens["access_token"]).status_code == 401  # an MFA change ends sessions
    assert api.me(confirmed["access_token"]).status_code == 200
    missing = _login(api)
    assert missing.status_code == 401 and missing.json["error"]["code"] == "mfa_required"
    assert _login(api, "000000").json["error"]["code"] == "invalid_mfa_code"
    assert _login(api, _next_step_code(secret)).status_code == 200


def test_a_code_works_once_and_an_older_code_never_after_it(api):
    tokens = api.signed_in()
    secret, confirmed = _enroll(api, tokens)
    assert _login(api, confirmed["code"]).json["error"]["code"] == "invalid_mfa_code"
    fresh = _next_step_code(secret)
    assert _login(api, fresh).status_code == 200
    assert _login(api, fresh).status_code == 401
    older = pyotp.TOTP(secret).at(time.time() - 30)
    assert _login(api, older).status_code == 401


def test_a_recovery_code_signs_in_once(api, runtime):
    tokens = api.signed_in()
    _, confirmed = _enroll(api, tokens)
    code = confirmed["recovery_codes"][0]
    assert _login(api, code.upper()).status_code == 200
    assert _login(api, code).status_code == 401
    status = api.call("GET", "/api/v1/auth/mfa", confirmed["access_token"]).json
    assert status == {"totp": True, "recovery_codes_left": 9}
    from sqlalchemy import select

    from chatlens.auth.tables import RecoveryCode

    with runtime.sessions() as session:
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert hashlib.sha256(code.encode()).hexdigest() in stored and code not in stored


def test_wrong_codes_are_throttled_with_retry_after(api):
    tokens = api.signed_in()
    secret, _ = _enroll(api, tokens)
    for _ in range(5):
        assert _login(api, "000000").status_code == 401
    throttled = _login(api, _next_step_code(secret))
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def test_turning_mfa_off_needs_password_and_code_and_ends_sessions(api):
    tokens = api.signed_in()
    secret, confirmed = _enroll(api, tokens)
    path = "/api/v1/auth/mfa/totp/disable"
    bad = api.call(
        "POST",
        path,
        confirmed["access_token"],
        {"password": "wrong password", "code": _next_step_code(secret)},
    )
    assert bad.status_code == 401
    off = api.call(
        "POST",
        path,
        confirmed["access_token"],
        {"password": PASSWORD, "code": _next_step_code(secret)},
    )
    assert off.status_code == 200, off.json
    assert api.me(confirmed["access_token"]).status_code == 401
    assert api.me(off.json["access_token"]).status_code == 200
    assert _login(api).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(api):
    tokens = api.signed_in()
    secret, confirmed = _enroll(api, tokens)
    renewed = api.call(
        "POST",
        "/api/v1/auth/mfa/recovery-codes",
        confirmed["access_token"],
        {"code": _next_step_code(secret)},
    )
    assert renewed.status_code == 200
    assert set(renewed.json["recovery_codes"]).isdisjoint(confirmed["recovery_codes"])
    assert _login(api, confirmed["recovery_codes"][0]).status_code == 401
    assert _login(api, renewed.json["recovery_codes"][0]).status_code == 200


def test_the_totp_secret_is_stored_encrypted_and_survives_a_key_rotation(api, app, runtime):
    from flask.testing import FlaskCliRunner
    from sqlalchemy import select

    from chatlens.auth.tables import TotpCredential

    tokens = api.signed_in()
    secret, _ = _enroll(api, tokens)
    with runtime.sessions() as session:
        stored = session.scalar(select(TotpCredential.secret))
    assert secret not in stored
    result = FlaskCliRunner(app).invoke(args=["admin", "rotate-secrets-key", "--drop-old"])
    assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        assert session.scalar(select(TotpCredential.secret)) != stored
    assert _login(api, _next_step_code(secret)).status_code == 200


def test_enrolling_again_while_on_is_a_conflict(api):
    tokens = api.signed_in()
    _, confirmed = _enroll(api, tokens)
    again = api.call("POST", "/api/v1/auth/mfa/totp", confirmed["access_token"])
    assert again.status_code == 409 and again.json["error"]["code"] == "mfa_enabled"
