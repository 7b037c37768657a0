"""A client's 4xx is logged at INFO, a 5xx of ours at WARNING (issue 15.9): an operator's alarm
is for what the operator must fix, not for a user's typo."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from chatlens.shared.web import ApiError, init_errors


@pytest.fixture
def client():
    app = Flask(__name__)
    init_errors(app)

    @app.get("/unknown-version")
    def unknown_version():
        raise ApiError(404, "unknown_version", "no version 99")

    @app.get("/index-down")
    def index_down():
        raise ApiError(503, "index_unavailable", "the index did not answer")

    return app.test_client()


def test_a_clients_mistake_is_info_and_our_failure_a_warning(client, caplog):
    caplog.set_level(logging.DEBUG, logger="chatlens.shared.web")

    assert client.get("/unknown-version").status_code == 404
    assert client.get("/index-down").status_code == 503

    levels = {r.code: r.levelno for r in caplog.records if r.message == "request refused"}
    assert levels == {"unknown_version": logging.INFO, "index_unavailable": logging.WARNING}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
