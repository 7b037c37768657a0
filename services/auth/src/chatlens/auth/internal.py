"""The guard of ``/internal/*``: routes for other services, never for browsers.

When ``INTERNAL_TOKEN`` is set, every internal request must carry it as ``X-Internal-Token``;
the route that reveals provider secrets is only served then.
"""

from __future__ import annotations

import hmac

from flask import Flask, request

from chatlens.auth import runtime
from chatlens.shared.web import ApiError

PREFIX = "/internal/"
HEADER = "X-Internal-Token"
REVEAL = "/internal/v1/secrets/reveal"


def init_app(app: Flask) -> None:
    @app.before_request
    def _guard() -> None:
        if not request.path.startswith(PREFIX):
            return
        expected = runtime.current().settings.internal_token
        if not expected:
            if request.path == REVEAL:
                raise ApiError(404, "not_found", "set INTERNAL_TOKEN to serve this route")
            return
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "unauthorized", f"send the internal token as {HEADER}")
