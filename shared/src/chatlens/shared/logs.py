"""JSON-lines logging with a correlation id that follows a request across HTTP and AMQP.

The id lives in a context variable: the gateway sets it from ``X-Correlation-ID`` (or makes one),
the bus copies it into every message's headers and back out in the consumer, so one grep finds a
request in every service's log.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Correlation-ID"
AMQP_HEADER = "x-correlation-id"

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> contextvars.Token[str | None]:
    return _correlation_id.set(value)


@contextmanager
def correlation(value: str | None) -> Iterator[str]:
    """Run a block with ``value`` (or a fresh id) as the current correlation id."""
    token = _correlation_id.set(value or new_correlation_id())
    try:
        yield _correlation_id.get()  # type: ignore[misc]
    finally:
        _correlation_id.reset(token)


class _CorrelationFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = _correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record to stderr as one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_CorrelationFilter(service))
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pika logs every connection step at INFO; keep its warnings only.
    logging.getLogger("pika").setLevel(logging.WARNING)
