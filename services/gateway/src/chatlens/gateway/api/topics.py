"""Topics: ``POST /api/v1/collections/{id}/analytics/topics`` starts computing them (202 with
the job, or 200 with the result when it is cached); ``GET`` the same path reads the result.

Both take the search filters, ``version`` and ``timezone`` of every analytics report, and the
topics' parameters (``chatlens.gateway.application.topics``).
"""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import deps
from chatlens.gateway.api.analytics import FILTERS, parsed
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.api.topics_http_models import TopicsIn, TopicsJobOut, TopicsOut, TopicsQuery
from chatlens.gateway.application import topics
from chatlens.gateway.application.analytics import ReportQuery
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared.web import json_body

bp = Blueprint("topics", __name__, url_prefix="/api/v1/collections")


def _split(given: dict) -> tuple[ReportQuery, dict]:
    query = ReportQuery(**{name: given.pop(name) for name in FILTERS})
    return query, given


@bp.post("/<collection_id>/analytics/topics")
@spec.validate(
    json=TopicsIn,
    resp=Response(
        HTTP_200=TopicsOut, HTTP_202=TopicsJobOut, **refusals(400, 404, 409, 415, 422, 503)
    ),
    tags=["analytics"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def start_topics(collection_id: str):
    """Cluster a version's messages into topics (KMeans on their vectors, k by silhouette,
    labels by class-based TF-IDF, a 2-D map): a job, cached per version, filters and
    parameters. 200 with the topics when already computed, else 202 with the job."""
    query, options = _split(json_body(TopicsIn).model_dump())
    started = topics.start(
        deps.backends(), deps.caller(), collection_id, query, topics.params_of(**options)
    )
    if started.result is not None:
        return started.result
    return {"version": started.version, "job": started.job}, 202


@bp.get("/<collection_id>/analytics/topics")
@spec.validate(
    query=TopicsQuery,
    resp=Response(HTTP_200=TopicsOut, **refusals(400, 404, 409, 422, 503)),
    tags=["analytics"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def get_topics(collection_id: str):
    """The topics a job computed for this version, filters and parameters (404
    ``topics_not_computed`` until then)."""
    query, options = _split(parsed(TopicsQuery).model_dump())
    return topics.result(
        deps.backends(), deps.caller(), collection_id, query, topics.params_of(**options)
    )
