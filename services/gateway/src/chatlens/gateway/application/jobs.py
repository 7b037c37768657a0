"""A job's state, and following it: the views of its state as it changes, until it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from chatlens.gateway import jobs
from chatlens.gateway.application.ports import Backends, Caller


def get(backends: Backends, caller: Caller, job_id: str) -> dict[str, Any]:
    """The job's view; ``NotFound`` for another org's job."""
    with backends.sessions() as session:
        return jobs.job_view(jobs.get_job(session, caller.org_id, job_id))


def follow(
    backends: Backends, caller: Caller, job_id: str, keepalive_s: float
) -> Iterator[dict[str, Any] | None]:
    """Each new state of the job (its view without ``updated_at``) as it changes, ending after
    a terminal one or at ``SSE_MAX_S``; ``None`` after ``keepalive_s`` without a change. Checked
    once before anything is yielded (another org's job is not found at once)."""
    get(backends, caller, job_id)
    return _changes(backends, caller, job_id, keepalive_s)


def _changes(
    backends: Backends, caller: Caller, job_id: str, keepalive_s: float
) -> Iterator[dict[str, Any] | None]:
    settings = backends.settings
    last: dict[str, Any] | None = None
    last_sent = time.monotonic()
    deadline = time.monotonic() + settings.sse_max_s
    while time.monotonic() < deadline:
        view = get(backends, caller, job_id)
        view.pop("updated_at")
        if view != last:
            last, last_sent = view, time.monotonic()
            yield view
            if view["status"] in jobs.TERMINAL:
                return
        elif time.monotonic() - last_sent > keepalive_s:
            last_sent = time.monotonic()
            yield None
        time.sleep(settings.sse_poll_s)
