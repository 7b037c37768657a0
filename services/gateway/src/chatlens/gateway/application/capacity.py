"""How many generations one gateway process carries at once (issue 15: search under load).

A generation (an answer, streamed or waited for, a summary, a chat completion) holds one of the
gateway's request threads for as long as the model writes: seconds on a GPU, tens of seconds on
two CPU cores, and up to ``GENERATION_TIMEOUT_S`` while it queues behind others. With nothing to
bound them, a burst of questions takes every thread and searches wait behind answers that
cannot go any faster (the load bench at 100 users: search p50 4.2 s, p99 15 s). So a process
admits at most ``MAX_CONCURRENT_GENERATIONS`` of them, and refuses the next at once with a 503
and ``Retry-After`` (the client retries; nothing was started, nothing is counted), which keeps
the other threads for the requests that take milliseconds.

The bound is per process, like the threads it protects; the model's own capacity is the
inference service's (its batch and handler pool).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TypeVar

from chatlens.gateway.application.errors import Unavailable

T = TypeVar("T")
RETRY_AFTER_S = 5


class GenerationBusy(Unavailable):
    """Every generation slot of this process is taken: a 503, retry shortly."""


class GenerationSlots:
    """A counting gate for generations in this process (thread-safe)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the generation limit must be at least 1")
        self.limit = limit
        self._free = threading.BoundedSemaphore(limit)

    def take(self) -> Callable[[], None]:
        """A slot, or :class:`GenerationBusy`; returns the slot's release (safe to call twice)."""
        if not self._free.acquire(blocking=False):
            raise GenerationBusy(
                "generation_busy",
                f"this server is already writing {self.limit} answers, the most it takes at "
                f"once; try again in a few seconds",
                retry_after=RETRY_AFTER_S,
            )
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._free.release()

        return release

    @contextmanager
    def held(self) -> Iterator[None]:
        """A slot for the duration of a ``with`` block (a generation waited for)."""
        release = self.take()
        try:
            yield
        finally:
            release()

    def holding(
        self, release: Callable[[], None], stream: Generator[T, None, None]
    ) -> Generator[T, None, None]:
        """``stream``, releasing its slot when it ends, fails or is closed by a client that left.

        A generator closed before it ever ran does not run its ``finally``: the wrapper also
        releases when it is collected, so a response dropped before its first byte frees its
        slot too."""
        return _Holding(release, stream)

    @property
    def in_use(self) -> int:
        return self.limit - self._free._value  # noqa: SLF001 - read-only, for metrics and tests


class _Holding(Generator[T, None, None]):
    def __init__(self, release: Callable[[], None], stream: Generator[T, None, None]) -> None:
        self._release, self._stream = release, stream

    def send(self, value: None) -> T:
        try:
            return self._stream.send(value)
        except BaseException:
            self._release()
            raise

    def throw(self, *args):  # type: ignore[no-untyped-def]
        try:
            return self._stream.throw(*args)
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._release()

    def __del__(self) -> None:
        self._release()
