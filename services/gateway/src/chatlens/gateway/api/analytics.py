"""Analytics: ``GET /api/v1/collections/{id}/analytics/{overview,activity,people,conversations,
interaction,language,calendar,identities}``, and ``…/analytics/messages``: the messages behind a
figure (a report's drill-down).

Each takes the search filters, a ``version`` and a ``timezone`` in its query string, and answers
the numbers the index computed over that version's live messages
(``chatlens.gateway.application.analytics``). A view parses, calls the use case, and serialises.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask import Response as FlaskResponse
from pydantic import ValidationError
from spectree import Response

from chatlens.gateway.api import deps
from chatlens.gateway.api.analytics_http_models import (
    ActivityOut,
    ActivityQuery,
    AnalyticsQuery,
    CalendarOut,
    CalendarQuery,
    ConversationsOut,
    ConversationsQuery,
    ExportQuery,
    GroupingOut,
    IdentitiesOut,
    IdentitiesQuery,
    InteractionOut,
    InteractionQuery,
    LanguageOut,
    LanguageQuery,
    OverviewOut,
    PeopleIn,
    PeopleOut,
    PeopleQuery,
)
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.drilldown_http_models import MessagesOut, MessagesQuery
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import analytics, drilldown, exports, people
from chatlens.gateway.security import COLLECTIONS_WRITE, SEARCH_READ, requires
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/collections")

# Query parameters that may repeat (alternatives); any other given twice is refused.
REPEATABLE = ("platform", "chat", "sender", "kind", "language", "languages", "hour", "weekday")
# What every report takes (``analytics.ReportQuery``); the rest are the report's own options.
FILTERS = (
    "platform",
    "chat",
    "sender",
    "kind",
    "language",
    "since",
    "until",
    "version",
    "timezone",
)


def parsed(model: type[AnalyticsQuery]) -> AnalyticsQuery:
    """The query string as ``model``: 422 ``validation_error`` for an unknown parameter, a value
    out of range, or a single-valued parameter given twice."""
    values: dict = {}
    for name, given in request.args.to_dict(flat=False).items():
        if name in REPEATABLE:
            values[name] = [v.strip() for v in given if v.strip()]
        elif len(given) > 1:
            raise ApiError(422, "validation_error", f"{name} is given {len(given)} times")
        else:
            values[name] = given[0]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "query"
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None


def _route(report: str, query: type[AnalyticsQuery], answer: type, summary: str) -> None:
    """``GET …/analytics/<report>``: parse ``query``, run the report, answer ``answer``."""

    def view(collection_id: str):
        given = parsed(query).model_dump()
        filters = {name: given.pop(name) for name in FILTERS}
        return analytics.run_report(
            deps.backends(),
            deps.caller(),
            collection_id,
            report,
            analytics.ReportQuery(**filters, options=given),
        )

    view.__name__ = view.__qualname__ = report  # the endpoint's name, and the document's
    view.__doc__ = summary
    documented = spec.validate(
        query=query,
        resp=Response(HTTP_200=answer, **refusals(404, 409, 422, 503)),
        tags=["analytics"],
        skip_validation=True,
    )
    bp.get(f"/<collection_id>/analytics/{report}")(documented(requires(SEARCH_READ)(view)))


_route(
    "overview", AnalyticsQuery, OverviewOut, "Totals, span, busiest times, streaks and silences."
)
_route(
    "activity",
    ActivityQuery,
    ActivityOut,
    "Messages over time, the hour x weekday heatmap, message lengths.",
)
_route(
    "people",
    PeopleQuery,
    PeopleOut,
    "Per sender: counts, habits, conversations, replies and response times.",
)
_route(
    "conversations",
    ConversationsQuery,
    ConversationsOut,
    "Conversations split by a silence: how many, how long, who starts and ends them.",
)
_route(
    "interaction",
    InteractionQuery,
    InteractionOut,
    "Who replies to whom and how fast, turn-taking, mentions, threads and reply trees.",
)
_route(
    "language",
    LanguageQuery,
    LanguageOut,
    "Top words and phrases, emoji, link domains, sentiment by month.",
)
_route("calendar", CalendarQuery, CalendarOut, "Messages per day of one year (a calendar heatmap).")
_route(
    "identities",
    IdentitiesQuery,
    IdentitiesOut,
    "People across platforms: senders that look like one person, with the evidence.",
)


@bp.post("/<collection_id>/people")
@spec.validate(
    json=PeopleIn,
    resp=Response(HTTP_200=GroupingOut, **refusals(403, 404, 409, 422, 503)),
    tags=["analytics"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def regroup_people(collection_id: str):
    """Merge sender names into one person, or split them out again (a new version; audited).
    Every report counts by person from that version on."""
    body = json_body(PeopleIn)
    done = people.regroup(
        deps.backends(), deps.caller(), collection_id, body.action, body.person, body.senders
    )
    return done.model_dump(mode="json", include={"version", "changed", "people"})


@bp.get("/<collection_id>/export")
@spec.validate(
    query=ExportQuery,
    resp=Response(HTTP_200=None, **refusals(404, 409, 413, 422, 503)),
    tags=["analytics"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def export_messages(collection_id: str):
    """A chat or time window of a version (the search filters) as CSV, JSON or a Markdown
    transcript, at most 10,000 messages, times in ``timezone``; an attachment."""
    given = parsed(ExportQuery).model_dump()
    fmt = given.pop("format")
    done = exports.export(
        deps.backends(),
        deps.caller(),
        collection_id,
        analytics.ReportQuery(**{name: given[name] for name in FILTERS}),
        fmt,
    )
    return FlaskResponse(
        done.body,
        mimetype=done.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{done.filename}"'},
    )


@bp.get("/<collection_id>/analytics/messages")
@spec.validate(
    query=MessagesQuery,
    resp=Response(HTTP_200=MessagesOut, **refusals(404, 409, 422, 503)),
    tags=["analytics"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def drill_down(collection_id: str):
    """The messages behind a report's figure, oldest first: the filters, narrowed to hours of
    the day and days of the week in ``timezone`` (the hour x weekday heatmap's cell)."""
    given = parsed(MessagesQuery).model_dump()
    return drilldown.messages(
        deps.backends(),
        deps.caller(),
        collection_id,
        analytics.ReportQuery(**{name: given[name] for name in FILTERS}),
        given["hour"],
        given["weekday"],
        given["limit"],
    )
