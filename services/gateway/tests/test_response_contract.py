"""A JSON response leaves only through the model its view declares for that status."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask
from pydantic import BaseModel
from spectree import Response

from chatlens.gateway.api import contract
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import Error
from chatlens.shared import web


class Thing(BaseModel):
    name: str
    count: int


def app_with(body: dict, status: int = 200) -> Flask:
    bp = Blueprint("things", __name__)

    @bp.get("/thing")
    @spec.validate(resp=Response(HTTP_200=Thing, HTTP_404=Error), skip_validation=True)
    def thing():
        return body, status

    @bp.get("/undeclared")
    def undeclared():
        return {"anything": True}

    app = Flask(__name__)
    web.init_errors(app, {})
    contract.init_app(app)
    app.register_blueprint(bp)
    return app


def test_a_body_that_fits_its_model_passes_unchanged():
    response = app_with({"name": "a", "count": 2}).test_client().get("/thing")
    assert (response.status_code, response.json) == (200, {"name": "a", "count": 2})


def test_a_body_that_breaks_its_model_is_our_500_with_the_reason_logged(caplog):
    response = app_with({"name": "a", "count": "many"}).test_client().get("/thing")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal", "message": "internal error; see the server log"}
    }
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "things.thing answered 200 that does not fit Thing: count" in record.getMessage()


def test_an_error_body_is_checked_against_the_declared_error_shape():
    response = app_with({"detail": "nope"}, 404).test_client().get("/thing")
    assert response.status_code == 500
    fine = app_with({"error": {"code": "x", "message": "y"}}, 404).test_client().get("/thing")
    assert fine.status_code == 404


def test_a_status_or_a_route_nothing_declares_passes():
    client = app_with({"name": "a", "count": 1}, 201).test_client()
    assert client.get("/thing").status_code == 201
    assert client.get("/undeclared").json == {"anything": True}
