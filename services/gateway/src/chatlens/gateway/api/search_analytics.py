"""Search analytics: ``GET /api/v1/collections/{id}/analytics/search``, what people searched
and asked in a collection (recorded by the gateway: ``chatlens.gateway.application.search_log``).
Owners, admins and analysts only (``collections:write``): the queries are what members typed."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, request
from pydantic import BaseModel, Field, ValidationError
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import search_log
from chatlens.gateway.security import COLLECTIONS_WRITE, requires
from chatlens.shared.web import ApiError

bp = Blueprint("search_analytics", __name__, url_prefix="/api/v1/collections")


class SearchAnalyticsQuery(http_models.Strict):
    """UTC days, both included; the last 30 days to today when absent."""

    since: date | None = Field(default=None, examples=["2026-11-01"])
    until: date | None = Field(default=None, examples=["2026-11-30"])
    top: int = Field(default=20, ge=1, le=100, description="how many frequent queries")


class QueriesOnDay(BaseModel):
    day: date
    queries: int
    zero_results: int


class FrequentQuery(BaseModel):
    query: str = Field(description="normalised: case folded, white space collapsed")
    count: int
    zero_results: int
    average_results: float


class ModeLatency(BaseModel):
    mode: str = Field(description="semantic, keyword, hybrid, or ask (a question)")
    queries: int
    p50_ms: float
    p90_ms: float
    p99_ms: float


class SearchAnalyticsOut(BaseModel):
    since: date
    until: date
    queries: int
    zero_results: int
    zero_result_rate: float | None = Field(description="None when nothing was searched")
    days: list[QueriesOnDay] = Field(description="days with searches, oldest first")
    top_queries: list[FrequentQuery]
    latency: list[ModeLatency]


@bp.get("/<collection_id>/analytics/search")
@spec.validate(
    query=SearchAnalyticsQuery,
    resp=Response(HTTP_200=SearchAnalyticsOut, **refusals(403, 404, 422)),
    tags=["analytics"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def search_analytics(collection_id: str):
    """Searches and questions per day, the zero-result rate, the most frequent queries, and
    latency percentiles per mode."""
    query = _parsed()
    done = search_log.report(
        deps.backends(), deps.caller(), collection_id, query.since, query.until, query.top
    )
    return SearchAnalyticsOut.model_validate(done, from_attributes=True).model_dump(mode="json")


def _parsed() -> SearchAnalyticsQuery:
    """The query string: 422 ``validation_error`` for an unknown parameter, a bad value, or
    one given twice (as the other analytics endpoints answer)."""
    given = request.args.to_dict(flat=False)
    twice = [name for name, values in given.items() if len(values) > 1]
    if twice:
        raise ApiError(422, "validation_error", f"{twice[0]} is given more than once")
    try:
        return SearchAnalyticsQuery.model_validate({k: v[0] for k, v in given.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "query"
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None
