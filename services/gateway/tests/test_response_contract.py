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


class Point(BaseModel):
    day: str
    messages: int


class Series(BaseModel):
    points: list[Point]


def app_with(body: dict, status: int = 200) -> Flask:
    bp = Blueprint("things", __name__)

    @bp.get("/series")
    @spec.validate(resp=Response(HTTP_200=Series), skip_validation=True)
    def series():
        return body, status

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


def points(count: int) -> list[dict]:
    return [{"day": f"d{i}", "messages": i} for i in range(count)]


def test_a_large_body_passes_whole_and_a_wrong_item_in_its_sample_is_still_our_500():
    many = points(20_000)  # over WHOLE_BYTES
    response = app_with({"points": many}).test_client().get("/series")
    assert response.status_code == 200
    assert len(response.get_data()) > contract.WHOLE_BYTES
    assert response.json == {"points": many}
    for where in (0, -1):  # the first and the last items are always in the sample
        wrong = points(20_000)
        wrong[where]["messages"] = "many"
        assert app_with({"points": wrong}).test_client().get("/series").status_code == 500


def test_the_sample_keeps_each_long_lists_ends_at_any_depth():
    value = {"a": list(range(1000)), "b": [{"c": list(range(201))}], "d": "x"}
    kept = contract.sampled(value)
    assert kept["a"] == list(range(contract.KEPT)) + list(range(1000 - contract.KEPT, 1000))
    assert len(kept["b"][0]["c"]) == 2 * contract.KEPT
    assert kept["d"] == "x"
    assert contract.sampled(list(range(200))) == list(range(200))


def test_a_model_inside_a_views_answer_is_still_serialised():
    """spectree serialises pydantic models found anywhere in what a view returns; the gateway's
    quicker look for them (docs._Adapter) must find them as deep as spectree's did."""
    nested = {"outer": [{"inner": Thing(name="a", count=1)}, 2, "x", None]}
    app = app_with({})

    @app.get("/nested")
    @spec.validate(skip_validation=True)
    def with_model():
        return nested

    assert app.test_client().get("/nested").json == {
        "outer": [{"inner": {"name": "a", "count": 1}}, 2, "x", None]
    }
    assert spec.model_adapter.is_partial_model_instance(nested)
    assert not spec.model_adapter.is_partial_model_instance({"a": [1, "x", None, 2.5, True]})
