"""How a worker service (a consumer process, not a web app) stops: on SIGTERM or SIGINT, once,
letting its consumers drain. The embedding worker, the index and inference all stop this way;
Flask services stop through gunicorn (``chatlens.shared.service``)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)


class StopSignal:
    """SIGTERM and SIGINT as an event. Create it first thing in ``main`` (from the main thread),
    so a signal during a long start-up (a model load) is not lost; then :meth:`wait`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._event = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("stopping", extra={"service": self.service, "signal": signal.Signals(signum).name})
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        """Stop as a signal would (tests, or a fatal condition found by the service itself)."""
        self._event.set()

    def wait(self) -> None:
        """Block until stopped. Wakes every second: the main thread must run Python code for a
        signal handler to run."""
        while not self._event.wait(1.0):
            pass
