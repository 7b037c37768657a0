"""Error reports: a fault reaches a (local) Sentry endpoint tagged with the correlation id,
release and environment, naming the user by id only, with no token, password, cookie or e-mail
in any byte sent; with no DSN nothing is sent at all."""

from __future__ import annotations

import logging

import pytest
import sentry_sdk
from flask import Flask, request

from chatlens.shared import error_reports, logs, web
from chatlens.shared.envelope_server import envelope_server

PASSWORD = "correct horse battery staple 42"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl"
EMAIL = "ada.lovelace@example.com"
COOKIE = "refresh-cookie-value-0123456789"
API_KEY = "clk_abcdef0123456789abcdef"


@pytest.fixture
def sentry():
    with envelope_server() as server:
        yield server
        sentry_sdk.flush(timeout=5)
    # The SDK is process-wide: leave it off for the other tests.
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.set_user(None)


def faulty_app() -> Flask:
    app = Flask(__name__)
    web.init_correlation(app)
    web.init_errors(app)

    @app.post("/boom")
    def boom():
        error_reports.identify("user-123")
        body = request.get_json()
        credential = request.headers["Authorization"]
        raise RuntimeError(f"could not sign in {body['email']} with {credential}")

    return app


def test_a_fault_in_a_request_is_reported_with_its_correlation_id_and_no_secrets(sentry):
    assert error_reports.init_sentry(
        sentry.dsn, "gateway", environment="staging", release="chatlens@9.9.9"
    )
    response = (
        faulty_app()
        .test_client()
        .post(
            "/boom?access_token=" + JWT + "&page=2",
            json={"email": EMAIL, "password": PASSWORD},
            headers={
                "Authorization": f"Bearer {JWT}",
                "X-Correlation-ID": "corr-abc-123",
                "Cookie": f"chatlens_refresh={COOKIE}",
                "X-API-Key": API_KEY,
            },
        )
    )
    assert response.status_code == 500
    assert response.headers[logs.HEADER] == "corr-abc-123"
    sentry_sdk.flush(timeout=5)
    [event] = sentry.wait_for_events(1)
    assert event["tags"]["correlation_id"] == "corr-abc-123"
    assert event["tags"]["service"] == "gateway"
    assert (event["release"], event["environment"]) == ("chatlens@9.9.9", "staging")
    assert event["user"] == {"id": "user-123"}
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "page=2" in event["request"]["query_string"]
    raw = sentry.raw()
    for secret in (PASSWORD, JWT, EMAIL, COOKIE, API_KEY):
        assert secret.encode() not in raw, secret
    assert b"[email]" in raw  # the address was there, and was filtered


def test_a_worker_error_logged_under_a_correlation_id_is_reported_with_it(sentry):
    error_reports.init_sentry(sentry.dsn, "index")
    with logs.correlation("bus-corr-77"):
        try:
            raise ValueError("segment unreadable")
        except ValueError:
            logging.getLogger("chatlens.index.test").exception("handler failed for %s", EMAIL)
    sentry_sdk.flush(timeout=5)
    [event] = sentry.wait_for_events(1)
    assert event["tags"]["correlation_id"] == "bus-corr-77"
    assert event["tags"]["service"] == "index"
    assert event["release"].startswith("chatlens@")
    assert EMAIL.encode() not in sentry.raw()


def test_without_a_dsn_nothing_is_sent(sentry):
    assert not error_reports.init_sentry(None, "gateway")
    assert not error_reports.init_sentry("", "gateway")
    assert not sentry_sdk.get_client().is_active()
    response = (
        faulty_app()
        .test_client()
        .post("/boom", json={"email": EMAIL}, headers={"Authorization": "Bearer x"})
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=2)
    assert sentry.wait_for_events(1, timeout=1.0) == []
    assert sentry.envelopes == []


def test_scrub_keeps_only_the_user_id_and_filters_secret_headers_and_query_values():
    event = {
        "user": {"id": "u1", "email": EMAIL, "ip_address": "10.0.0.1", "username": "ada"},
        "request": {
            "data": {"password": PASSWORD},
            "cookies": {"c": COOKIE},
            "headers": {
                "Authorization": "Bearer x",
                "X-Internal-Token": "t",
                "Accept": "application/json",
            },
            "query_string": "refresh_token=abc&q=lisbon",
        },
        "message": f"failed for {EMAIL}: Bearer {JWT}",
        "extra": {"form": {"password": PASSWORD, "refresh_token": "r", "page": 2}},
    }
    scrubbed = error_reports.scrub(event)
    assert scrubbed["user"] == {"id": "u1"}
    assert "data" not in scrubbed["request"] and "cookies" not in scrubbed["request"]
    assert scrubbed["request"]["headers"] == {
        "Authorization": error_reports.FILTERED,
        "X-Internal-Token": error_reports.FILTERED,
        "Accept": "application/json",
    }
    assert "abc" not in scrubbed["request"]["query_string"]
    assert "q=lisbon" in scrubbed["request"]["query_string"]
    assert EMAIL not in scrubbed["message"] and JWT not in scrubbed["message"]
    assert scrubbed["extra"]["form"] == {
        "password": error_reports.FILTERED,
        "refresh_token": error_reports.FILTERED,
        "page": 2,
    }
