"""Server-sent events for streamed answers: framing, and a response that streams as it goes."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import stream_with_context

from chatlens.gateway.application.errors import AppError
from chatlens.shared.web import ApiError


def event(data: dict | str, name: str | None = None) -> str:
    """One SSE event; ``data`` as JSON unless it is a string already (OpenAI's ``[DONE]``)."""
    body = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {name}\n" if name else "") + f"data: {body}\n\n"


def error_data(exc: ApiError | AppError) -> dict:
    """A failure after the stream started, as the same error body a status would carry."""
    return {"error": {"code": exc.code, "message": exc.message}}


def response(events: Iterator[str]) -> tuple[Iterator[str], int, dict[str, str]]:
    """A ``text/event-stream`` response that flushes each event as it comes (nginx included:
    ``X-Accel-Buffering``). A client that goes away closes ``events`` (Werkzeug and gunicorn
    close the iterator when a write fails), and with it what produces them.

    Returned as (body, status, headers), not as a ``Response``: spectree's view wrapper reads a
    ``Response``'s whole body (``get_data``) to validate it, which would hold every event back
    until the stream ended; a body it is handed as an iterable it passes on untouched."""
    return (
        stream_with_context(events),
        200,
        {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        },
    )
