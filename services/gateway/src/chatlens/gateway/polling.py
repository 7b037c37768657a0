"""The gateway's background loops (the outbox relay, the webhook dispatcher): a daemon thread
that repeats a step at once while it finds work, waits ``poll_s`` (or a ``wake``) when it finds
none, and waits 2 s after a failure, which it logs and survives."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Self

log = logging.getLogger(__name__)


class PollingLoop(ABC):
    name = "polling-loop"

    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()

    @abstractmethod
    def step(self) -> int:
        """One round of work; how much was done (0: nothing to do, wait for the next poll)."""

    def wake(self) -> None:
        """Run the next round now, e.g. after a request committed work for it."""
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.step():
                    continue
            except Exception:
                log.exception("%s failed; retrying", self.name)
                self._stop.wait(2.0)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def start(self) -> Self:
        threading.Thread(target=self.run, name=self.name, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
