"""Request guards and the error shape every Flask service shares."""

import json

import pytest
from flask import Flask
from pydantic import BaseModel, ConfigDict

from chatlens.shared import web


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


@pytest.fixture
def client():
    app = Flask(__name__)
    web.init_correlation(app)
    web.init_errors(app, {KeyError: (404, "missing")})
    web.init_health(app, ready=lambda: False)

    @app.post("/echo")
    def echo():
        return {"name": web.json_body(Body).name}

    @app.get("/missing")
    def missing():
        raise KeyError("nothing here")

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    return app.test_client()


def post(client, data, content_type="application/json"):
    return client.post("/echo", data=data, content_type=content_type)


@pytest.mark.parametrize(
    "data, content_type, status, code",
    [
        ("{", "application/json", 400, "invalid_json"),
        ('{"name": NaN}', "application/json", 400, "invalid_json"),
        ('{"name": Infinity}', "application/json", 400, "invalid_json"),
        ("[" * 10_000 + "]" * 10_000, "application/json", 400, "invalid_json"),
        ('{"name": "x", "extra": 1}', "application/json", 422, "validation_error"),
        ("[1, 2]", "application/json", 422, "validation_error"),
        ('{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
        (json.dumps({"name": "x" * (2 << 20)}), "application/json", 413, "body_too_large"),
    ],
)
def test_bad_bodies_get_a_clear_4xx_with_a_code(client, data, content_type, status, code):
    response = post(client, data, content_type)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_a_good_body_passes_and_brackets_inside_strings_do_not_count_as_nesting(client):
    response = post(client, json.dumps({"name": "[[[[" * 100}))
    assert response.status_code == 200


def test_errors_keep_the_shape_and_hide_internals(client):
    assert client.get("/missing").json["error"]["code"] == "missing"
    boom = client.get("/boom")
    assert boom.status_code == 500 and "secret" not in boom.get_data(as_text=True)
    assert client.get("/nowhere").json["error"]["code"] == "not_found"


def test_the_correlation_id_is_echoed_or_made(client):
    assert (
        client.get("/healthz", headers={"X-Correlation-ID": "abc"}).headers["X-Correlation-ID"]
        == "abc"
    )
    assert len(client.get("/healthz").headers["X-Correlation-ID"]) == 32


def test_probes_and_metrics(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    assert b"flask_http_request" in client.get("/metrics").data


def test_a_database_that_does_not_answer_is_a_retryable_503():
    """A restart or a lock wait gives OperationalError: 503 with Retry-After, not a 500."""
    from flask import Flask
    from sqlalchemy.exc import OperationalError

    from chatlens.shared import web

    app = Flask(__name__)
    web.init_errors(app)

    @app.get("/boom")
    def boom():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("Connection refused"))

    response = app.test_client().get("/boom")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.json["error"]["code"] == "database_unavailable"
    assert "SELECT" not in response.json["error"]["message"]


def test_a_request_whose_callers_deadline_passed_is_answered_503_without_being_worked_on():
    app = Flask(__name__)
    web.init_deadline(app)
    worked = []

    @app.post("/hash")
    def hash_password():
        worked.append(1)
        return {"ok": True}

    client = app.test_client()
    gone = client.post("/hash", headers=web.deadline_header(-0.5))
    assert gone.status_code == 503
    assert gone.get_json()["error"]["code"] == "deadline_exceeded"
    assert gone.headers["Retry-After"] == "1"
    assert worked == []
    # In time, without the header, or with one that is not a number: worked on as before.
    for headers in (web.deadline_header(10), {}, {web.DEADLINE_HEADER: "soon"}):
        assert client.post("/hash", headers=headers).status_code == 200
    assert len(worked) == 3
