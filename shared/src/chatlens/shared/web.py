"""What every Flask service of Chatlens does the same way.

* errors are ``{"error": {"code", "message"}}`` with the right status, never an HTML page or a
  500 for bad input (:class:`ApiError` and :func:`init_errors`);
* request bodies are parsed by :func:`json_body`, which refuses non-JSON, ``NaN``/``Infinity``,
  absurd nesting and oversize bodies before Flask's own parser could answer 500;
* the correlation id is read from ``X-Correlation-ID`` (or made) and echoed back;
* a request whose caller has already given up (its ``X-Chatlens-Deadline`` passed while it
  waited for a thread) is answered 503 at once instead of worked on (:func:`init_deadline`);
* ``/healthz``, ``/readyz`` and ``/metrics``.

Only the HTTP services import this module (it needs Flask).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, has_request_context, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from chatlens.shared import logs

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# On every response (init_security_headers); JSON also gets JSON_CSP: it never loads anything.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
# When the caller (the gateway proxying to auth) stops waiting: Unix time in seconds.
DEADLINE_HEADER = "X-Chatlens-Deadline"


class ApiError(Exception):
    """An error the client should see, with its HTTP status and a stable code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _reject_constant(name: str) -> Any:
    raise ApiError(400, "invalid_json", f"{name} is not valid JSON")


def json_body(model: type[BaseModel] | None = None, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The request's JSON body, guarded, and validated into ``model`` when given."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    length = request.content_length
    if length is not None and length > max_bytes:
        raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > max_bytes:
        raise ApiError(413, "body_too_large", f"the body exceeds {max_bytes} bytes")
    # Nesting is measured on the raw text first: json.loads itself recurses and would blow up.
    if _bracket_depth(raw) > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid_json", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:  # where, not the decoder's own wording
        raise ApiError(
            400,
            "invalid_json",
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno})",
        ) from None
    except ValueError:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    if model is None:
        return data
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", "the body must be a JSON object")
    try:
        # Strictly, as JSON: a number is not a string, true is not 1, "yes" is not true.
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", _describe(exc)) from None


def _bracket_depth(raw: bytes) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def init_errors(app: Flask, table: dict[type[Exception], tuple[int, str]] | None = None) -> None:
    """Register the JSON error handlers; ``table`` maps domain exceptions to (status, code)."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        # A client's mistake (4xx) is routine, worth INFO; only our own failures are alarms.
        log.log(
            logging.INFO if exc.status < 500 else logging.WARNING,
            "request refused",
            extra={"status": exc.status, "code": exc.code, "path": request.path},
        )
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    for exc_type, (status, code) in (table or {}).items():
        app.register_error_handler(
            exc_type, lambda exc, s=status, c=code: error_response(s, c, str(exc))
        )

    @app.errorhandler(OperationalError)
    def _database_away(exc: OperationalError) -> Response:
        # The database is restarting or unreachable (a lock wait timed out): the request
        # changed nothing that committed, and trying again shortly is the cure.
        log.warning("database unavailable", extra={"error": str(exc.orig)[:200]})
        return error_response(
            503,
            "database_unavailable",
            "the database did not answer; try again shortly",
            {"Retry-After": "2"},
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; see the server log")


def init_correlation(app: Flask) -> None:
    """Take the correlation id from the request (or make one) and echo it in the response."""

    @app.before_request
    def _start() -> None:
        # Only a bounded, log- and header-safe id is taken; anything else gets a fresh one.
        incoming = request.headers.get(logs.HEADER, "")
        g._correlation_token = logs.set_correlation_id(
            incoming if _CORRELATION_ID.fullmatch(incoming) else logs.new_correlation_id()
        )

    @app.after_request
    def _echo(response: Response) -> Response:
        correlation_id = logs.get_correlation_id()
        if correlation_id:
            response.headers[logs.HEADER] = correlation_id
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        # The id was set in the request thread's own context: without this, work that thread
        # does next outside a request (a log line, a Dask task's carrier) would carry it.
        # A streamed response keeps its request context, and the id, until it ends.
        logs.set_correlation_id(None)


def deadline_header(timeout_s: float) -> dict[str, str]:
    """The header a caller sends with a request it will wait ``timeout_s`` for."""
    return {DEADLINE_HEADER: f"{time.time() + timeout_s:.3f}"}


def init_deadline(app: Flask) -> None:
    """Answer ``503 deadline_exceeded`` without doing the work when the caller's deadline
    (:data:`DEADLINE_HEADER`) has passed before a request thread took the request: under
    overload, requests queue in the server, and a costly one (a password hash) that its caller
    already gave up on would only lengthen the queue for those still waiting. Without the header
    (or with one that is not a number), nothing changes. Caller and service compare wall clocks,
    so they must be in step (NTP) to well under the caller's timeout."""

    @app.before_request
    def _expired() -> Response | None:
        try:
            deadline = float(request.headers.get(DEADLINE_HEADER, "inf"))
        except ValueError:
            return None
        if time.time() <= deadline:
            return None
        log.warning("request dropped: its caller's deadline passed while it queued")
        return error_response(
            503,
            "deadline_exceeded",
            "the request waited longer than its caller would; retry shortly",
            {"Retry-After": "1"},
        )


@contextmanager
def server_timing(name: str) -> Iterator[None]:
    """Time one step of the current request (an RPC, say): the response's ``Server-Timing``
    header lists it (see :func:`init_server_timing`). ``name`` must be an HTTP token."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if has_request_context():
            g.setdefault("_server_timings", []).append((name, time.perf_counter() - started))


def init_server_timing(app: Flask) -> None:
    """A response says where its time went, in the W3C ``Server-Timing`` header (browsers'
    developer tools and ``make bench`` read it): the steps timed with :func:`server_timing`,
    then ``app``, the whole handling of the request until its headers (a stream's body is not
    in it). Durations in milliseconds. Only when asked for: ``app.config["SERVER_TIMING"]`` (a
    debug setting), or a request that set ``g.server_timing`` (e.g. a platform administrator's);
    otherwise timings would tell anyone how long our internals take."""

    @app.before_request
    def _start_clock() -> None:
        g._request_started = time.perf_counter()

    @app.after_request
    def _timing(response: Response) -> Response:
        started = g.get("_request_started")
        if started is not None and (app.config.get("SERVER_TIMING") or g.get("server_timing")):
            steps = [*g.get("_server_timings", []), ("app", time.perf_counter() - started)]
            response.headers["Server-Timing"] = ", ".join(
                f"{name};dur={seconds * 1000:.2f}" for name, seconds in steps
            )
        return response


def init_security_headers(app: Flask) -> None:
    """:data:`SECURITY_HEADERS` on every response, and :data:`JSON_CSP` on JSON ones (an HTML
    page, such as the API docs, keeps the policy it sets for itself)."""

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype in ("application/json", "application/problem+json"):
            response.headers.setdefault("Content-Security-Policy", JSON_CSP)
        return response


def init_health(app: Flask, ready: Callable[[], bool] = lambda: True) -> None:
    """``/healthz`` (alive), ``/readyz`` (dependencies answer) and ``/metrics``."""
    from prometheus_flask_exporter import PrometheusMetrics

    PrometheusMetrics(app, path="/metrics", group_by="endpoint")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        try:
            ok = ready()
        except Exception:  # a failing check means "not ready", not an error page
            log.exception("readiness check failed")
            ok = False
        if ok:
            return {"status": "ready"}, 200
        # A 503 like every other: in the error shape (probes read only the status).
        return {
            "status": "starting",
            "error": {
                "code": "not_ready",
                "message": "a dependency does not answer yet; see the log",
            },
        }, 503
