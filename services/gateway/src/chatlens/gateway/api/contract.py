"""Every JSON response leaves through the model its view declares for that status.

A view documents its answers with spectree (``resp=Response(HTTP_200=Model, …)``); after the view
has run, the body is validated against the declared model for the status it carries, so the
document cannot promise what the code does not send. A body that does not fit is our bug, not the
client's: it is logged with the route and the first mismatch and answered as a 500 in the error
shape (the tests, schemathesis's included, see it at once). Streams, empty bodies and statuses
a view does not declare (the error shapes of ``chatlens.shared.web``) pass as they are.

A body over ``WHOLE_BYTES`` is checked on a sample: every list in it longer than ``2 x KEPT``
keeps its first and last ``KEPT`` items. Validating builds a model per item, so checking a
weekly activity series of 31,345 points (1.6 MB, a million messages) whole took 108 ms, more
than the index took to count it; the items of one list come from one piece of code, and the
tests check small answers whole.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, current_app, request
from pydantic import BaseModel, ValidationError

from chatlens.shared import web

log = logging.getLogger(__name__)

WHOLE_BYTES = 256 * 1024
KEPT = 100


def declared_model(app: Flask, endpoint: str | None, status: int) -> type[BaseModel] | None:
    from chatlens.gateway.api.docs import spec

    view = app.view_functions.get(endpoint or "")
    metadata = spec._function_metadata.get(view) if view is not None else None  # noqa: SLF001
    responses = getattr(metadata, "resp", None)
    return responses.find_model(status) if responses is not None else None


def init_app(app: Flask) -> None:
    @app.after_request
    def _conform(response: Response) -> Response:
        if response.is_streamed or response.mimetype != "application/json":
            return response
        model = declared_model(current_app, request.endpoint, response.status_code)
        if model is None:
            return response
        body = response.get_data()
        try:
            if len(body) <= WHOLE_BYTES:
                model.model_validate_json(body)
            else:
                model.model_validate(sampled(json.loads(body)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            log.error(
                "%s answered %s that does not fit %s: %s: %s",
                request.endpoint,
                response.status_code,
                model.__name__,
                where,
                first["msg"],
            )
            return web.error_response(500, "internal", "internal error; see the server log")
        return response


def sampled(value: Any) -> Any:
    """``value`` with every list longer than ``2 x KEPT`` cut to its first and last ``KEPT``
    items, at any depth."""
    if isinstance(value, dict):
        return {key: sampled(item) for key, item in value.items()}
    if isinstance(value, list):
        kept = value if len(value) <= 2 * KEPT else value[:KEPT] + value[-KEPT:]
        return [sampled(item) for item in kept]
    return value
