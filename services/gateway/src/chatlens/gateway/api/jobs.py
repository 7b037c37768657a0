"""Jobs: their state, and a server-sent event stream of their progress."""

from __future__ import annotations

import json
import time

from flask import Blueprint, current_app, g
from spectree import Response as Doc

from chatlens.gateway import jobs
from chatlens.gateway.api import http_models, sse
from chatlens.gateway.api.docs import spec
from chatlens.gateway.security import COLLECTIONS_READ, requires

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")
KEEPALIVE_S = 15.0


@bp.get("/<job_id>")
@spec.validate(resp=Doc(HTTP_200=http_models.JobOut, HTTP_404=http_models.Error), tags=["jobs"],
               skip_validation=True)
@requires(COLLECTIONS_READ)
def get_job(job_id: str):
    with current_app.extensions["chatlens.sessions"]() as session:
        return jobs.job_view(jobs.get_job(session, g.principal.org_id, job_id))


@bp.get("/<job_id>/events")
@spec.validate(resp=Doc(HTTP_200=None, HTTP_404=http_models.Error), tags=["jobs"],
               skip_validation=True)
@requires(COLLECTIONS_READ)
def job_events(job_id: str):
    """``text/event-stream``: a ``progress`` event on every change, ``done`` at the end."""
    sessions = current_app.extensions["chatlens.sessions"]
    settings = current_app.config["CHATLENS_SETTINGS"]
    org_id = g.principal.org_id
    with sessions() as session:
        jobs.get_job(session, org_id, job_id)  # 404 before the stream starts

    def stream():
        last, last_sent = None, time.monotonic()
        deadline = time.monotonic() + settings.sse_max_s
        while time.monotonic() < deadline:
            with sessions() as session:
                view = jobs.job_view(jobs.get_job(session, org_id, job_id))
            view.pop("updated_at")
            if view != last:
                last, last_sent = view, time.monotonic()
                yield f"event: progress\ndata: {json.dumps(view)}\n\n"
                if view["status"] in jobs.TERMINAL:
                    yield f"event: done\ndata: {json.dumps(view)}\n\n"
                    return
            elif time.monotonic() - last_sent > KEEPALIVE_S:
                last_sent = time.monotonic()
                yield ": keepalive\n\n"
            time.sleep(settings.sse_poll_s)

    return sse.response(stream())
