"""Jobs: their state, and a server-sent event stream of their progress."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response as Doc

from chatlens.gateway.api import deps, http_models, sse
from chatlens.gateway.api.docs import spec
from chatlens.gateway.application import jobs as following
from chatlens.gateway.jobs import TERMINAL
from chatlens.gateway.security import COLLECTIONS_READ, requires

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")
KEEPALIVE_S = 15.0


@bp.get("/<job_id>")
@spec.validate(
    resp=Doc(HTTP_200=http_models.JobOut, HTTP_404=http_models.Error),
    tags=["jobs"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def get_job(job_id: str):
    return following.get(deps.backends(), deps.caller(), job_id)


@bp.get("/<job_id>/events")
@spec.validate(
    resp=Doc(HTTP_200=None, HTTP_404=http_models.Error), tags=["jobs"], skip_validation=True
)
@requires(COLLECTIONS_READ)
def job_events(job_id: str):
    """``text/event-stream``: a ``progress`` event on every change, ``done`` at the end."""
    changes = following.follow(deps.backends(), deps.caller(), job_id, KEEPALIVE_S)

    def stream():
        for view in changes:
            if view is None:
                yield ": keepalive\n\n"
                continue
            yield sse.event(view, "progress")
            if view["status"] in TERMINAL:
                yield sse.event(view, "done")

    return sse.response(stream())
