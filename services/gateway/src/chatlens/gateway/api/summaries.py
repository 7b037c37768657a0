"""Summary views: summarise a chat or a window, read a recorded summary. The work is
``chatlens.gateway.application.summaries``."""

from __future__ import annotations

import dataclasses

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import answer_http_models as am
from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import summaries
from chatlens.gateway.security import ANSWERS_CREATE, SEARCH_READ, requires
from chatlens.shared.web import json_body

bp = Blueprint("summaries", __name__, url_prefix="/api/v1")


def _view(summary: summaries.RecordedSummary) -> dict:
    return {**dataclasses.asdict(summary), "created_at": summary.created_at.isoformat()}


@bp.post("/collections/<collection_id>/summaries")
@spec.validate(
    json=am.SummaryRequest,
    resp=Response(HTTP_201=am.SummaryOut, **refusals(404, 413, 422, 502, 503)),
    tags=["answers"],
    skip_validation=True,
)
@requires(ANSWERS_CREATE)
def summarize(collection_id: str):
    body = json_body(am.SummaryRequest)
    window = summaries.Window(**body.model_dump())
    return _view(summaries.summarize(deps.backends(), deps.caller(), collection_id, window)), 201


@bp.get("/summaries/<summary_id>")
@spec.validate(
    resp=Response(HTTP_200=am.SummaryOut, HTTP_404=http_models.Error),
    tags=["answers"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def get_summary(summary_id: str):
    return _view(summaries.get_summary(deps.backends(), deps.caller(), summary_id))
