"""Every JSON response leaves through the model its view declares for that status.

A view documents its answers with spectree (``resp=Response(HTTP_200=Model, …)``); after the view
has run, the body is validated against the declared model for the status it carries, so the
document cannot promise what the code does not send. A body that does not fit is our bug, not the
client's: it is logged with the route and the first mismatch and answered as a 500 in the error
shape (the tests, schemathesis's included, see it at once). Streams, empty bodies and statuses
a view does not declare (the error shapes of ``chatlens.shared.web``) pass as they are.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from pydantic import BaseModel, ValidationError

from chatlens.shared import web

log = logging.getLogger(__name__)


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
        try:
            model.model_validate_json(response.get_data())
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
