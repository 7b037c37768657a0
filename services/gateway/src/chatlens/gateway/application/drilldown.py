"""A report's drill-down: the messages behind a bar, a cell or a day, without a query.

The dashboards' figures count a version's live messages that pass the filters; this lists the
first of those same messages (``index.messages``: time order, tombstones applied), narrowed to a
slot of the week (the hour x weekday heatmap's cell) read in the report's time zone. Like the
reports, it lists what people wrote: system and service events are left out. Search cannot stand
in: it needs words, and the heatmap's slot is no date range.
"""

from __future__ import annotations

from typing import Any

from chatlens.gateway.application.analytics import ReportQuery, filters_of, zone_of
from chatlens.gateway.application.errors import Conflict
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.shared import schemas

# The kinds the reports count (the index's ``authored`` view leaves out system and service events).
AUTHORED = ("text", "media", "deleted", "call", "poll")


def messages(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    query: ReportQuery,
    hours: list[int],
    weekdays: list[int],
    limit: int,
) -> dict[str, Any]:
    """The first ``limit`` messages of the selection, oldest first, with how many there are."""
    zone = zone_of(query.timezone)
    kinds = [kind for kind in (query.kind or AUTHORED) if kind in AUTHORED]
    filters = filters_of(query, zone).model_copy(
        update={
            "hours": sorted(set(hours)),
            "weekdays": sorted(set(weekdays)),
            "timezone": query.timezone,
            "kind": kinds,
        }
    )
    latest = indexed_version(backends, caller, collection_id)
    if latest == 0:
        raise Conflict("collection_empty", "nothing has been indexed in this collection")
    version = resolve_version(backends, caller, collection_id, query.version)
    if not kinds:  # only system or service events asked for: no report counts them
        return {
            "version": latest if version is None else version,
            "timezone": query.timezone,
            "total": 0,
            "messages": [],
        }
    listed = backends.rpc.call(
        schemas.MessagesListRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            filters=filters,
            version=version,
            limit=limit,
        ),
        schemas.MessagesListed,
    )
    return {
        "version": listed.version,
        "timezone": query.timezone,
        "total": listed.total,
        "messages": [
            {
                "message_id": m.message_id,
                "platform": m.platform,
                "chat": m.chat,
                "sender": m.sender,
                "sent_at": m.sent_at.astimezone(zone).isoformat(),
                "kind": m.kind,
                "text": m.text,
            }
            for m in listed.messages
        ],
    }
