"""The gateway's one table from application errors to HTTP statuses.

Views raise nothing of their own beyond request parsing (``chatlens.shared.web.ApiError``); what
the application layer refuses is an :class:`~chatlens.gateway.application.errors.AppError`, and
its kind decides the status here, ``Retry-After`` included for what is worth retrying.
"""

from __future__ import annotations

from flask import Flask, Response

from chatlens.gateway.application import errors
from chatlens.shared import web

STATUS: dict[type[errors.AppError], int] = {
    errors.BadRequest: 400,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Invalid: 422,
    errors.UpstreamFailed: 502,
    errors.Unavailable: 503,
}


def status_of(exc: errors.AppError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def init_app(app: Flask) -> None:
    @app.errorhandler(errors.AppError)
    def _app_error(exc: errors.AppError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return web.error_response(status_of(exc), exc.code, exc.message, headers)
