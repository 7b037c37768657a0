"""The analytics use case: check the request, ask the index replica that owns the collection for
one report, hand back its numbers. Views parse and serialise; this decides."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from dateutil import parser as dateparser
from flask import current_app

from chatlens.gateway import jobs
from chatlens.gateway.api.analytics_http_models import AnalyticsQuery
from chatlens.gateway.api.rpc import RPC_ERRORS, call
from chatlens.gateway.api.tags import resolve_version
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

ERRORS = {**RPC_ERRORS, "invalid_timezone": (422, "invalid_timezone")}
# What each report takes besides the filters, as AnalyticsRequested names it.
OPTIONS = ("bucket", "stack", "top", "gap_minutes", "limit")


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, "invalid_timezone", f"unknown time zone {name!r}") from None


def moment(value: str, name: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """A date or date-time; one without an offset is read in the report's time zone."""
    try:
        parsed = dateparser.parse(value, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        raise ApiError(422, "invalid_date", f"{name}: {value!r} is not a date ({exc})") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def filters_of(query: AnalyticsQuery, zone: zoneinfo.ZoneInfo) -> schemas.SearchFilters:
    since = moment(query.since, "since", zone) if query.since else None
    until = moment(query.until, "until", zone) if query.until else None
    if since is not None and until is not None and until <= since:
        raise ApiError(422, "invalid_date_range", "until must be after since")
    return schemas.SearchFilters(platform=query.platform, chat=query.chat, sender=query.sender,
                                 kind=query.kind, since=since, until=until)


def run_report(org_id: str, collection_id: str, report: str, query: AnalyticsQuery) -> dict:
    """The numbers of ``report`` for the org's collection, with the version they describe."""
    zone = zone_of(query.timezone)
    filters = filters_of(query, zone)
    with current_app.extensions["chatlens.sessions"]() as session:
        collection = jobs.get_collection(session, org_id, collection_id)
        empty = collection.version == 0
    version = resolve_version(org_id, collection_id, query.version)
    if empty:  # nothing indexed yet: the index has no repository for it
        raise ApiError(409, "collection_empty", "nothing has been indexed in this collection")
    options = {name: getattr(query, name) for name in OPTIONS if hasattr(query, name)}
    answer = call(schemas.AnalyticsRequested(
        org_id=org_id, collection_id=collection_id, report=report, filters=filters,
        version=version, timezone=query.timezone, **options), errors=ERRORS)
    return {**answer.result, "version": answer.version, "timezone": answer.timezone}
