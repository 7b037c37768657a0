"""The analytics use case: check a report's request, ask the index replica that owns the
collection for it (DuckDB over the version's columns, in the index), hand back its numbers."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil import parser as dateparser

from chatlens.gateway.application.errors import Conflict, Invalid
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.shared import schemas

# What each report takes besides the filters, as AnalyticsRequested names it.
OPTIONS = ("bucket", "stack", "top", "gap_minutes", "limit", "year", "languages")


@dataclass(frozen=True)
class ReportQuery:
    """Filters as in search; ``since`` and ``until`` without an offset are in ``timezone``."""

    platform: list[str] = field(default_factory=list)
    chat: list[str] = field(default_factory=list)
    sender: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)  # detected at ingest, ISO 639-1
    since: str | None = None
    until: str | None = None
    version: int | str | None = None
    timezone: str = "UTC"
    options: dict[str, Any] = field(default_factory=dict)  # the report's own (OPTIONS)


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid("invalid_timezone", f"unknown time zone {name!r}") from None


def moment(value: str, name: str, zone: zoneinfo.ZoneInfo) -> datetime:
    """A date or date-time; one without an offset is read in the report's time zone."""
    try:
        parsed: datetime = dateparser.parse(value, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        raise Invalid("invalid_date", f"{name}: {value!r} is not a date ({exc})") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def filters_of(query: ReportQuery, zone: zoneinfo.ZoneInfo) -> schemas.SearchFilters:
    since = moment(query.since, "since", zone) if query.since else None
    until = moment(query.until, "until", zone) if query.until else None
    if since is not None and until is not None and until <= since:
        raise Invalid("invalid_date_range", "until must be after since")
    return schemas.SearchFilters(
        platform=query.platform,
        chat=query.chat,
        sender=query.sender,
        kind=query.kind,
        language=query.language,
        since=since,
        until=until,
    )


def run_report(
    backends: Backends, caller: Caller, collection_id: str, report: str, query: ReportQuery
) -> dict[str, Any]:
    """The numbers of ``report`` for the org's collection, with the version they describe."""
    zone = zone_of(query.timezone)
    filters = filters_of(query, zone)
    empty = indexed_version(backends, caller, collection_id) == 0
    version = resolve_version(backends, caller, collection_id, query.version)
    if empty:  # nothing indexed yet: the index has no repository for it
        raise Conflict("collection_empty", "nothing has been indexed in this collection")
    options = {name: value for name, value in query.options.items() if name in OPTIONS}
    answer = backends.rpc.call(
        schemas.AnalyticsRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            report=report,
            filters=filters,
            version=version,
            timezone=query.timezone,
            **options,
        ),
        schemas.AnalyticsAnswered,
    )
    return {**answer.result, "version": answer.version, "timezone": answer.timezone}
