"""Summaries of a chat or a time window, with citations, recorded like answers.

The window's messages are read from the index (in the caller's org, at the latest or a pinned
version) and handed to the inference service, which summarises them map-reduce when they exceed
one prompt. Summaries run while the client waits, bounded instead of queued as jobs: a window
over ``SUMMARY_MAX_MESSAGES`` messages is ``TooLarge`` (413 ``window_too_large``, naming the
limit; the inference service refuses one needing more than its ``SUMMARY_MAX_CHUNKS`` map steps
the same way), so the slowest accepted summary stays inside ``SUMMARY_TIMEOUT_S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatlens.gateway import jobs
from chatlens.gateway.application import org_models, usage
from chatlens.gateway.application.echo import echoed
from chatlens.gateway.application.errors import NotFound, TooLarge
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.prompting import SYSTEM, citation
from chatlens.gateway.application.queries import FilterValues, build_filters
from chatlens.gateway.application.versions import indexed_version
from chatlens.gateway.db import Summary
from chatlens.shared import schemas

NOTHING = "There are no messages in that window."
# What a summary says when the model repeated its prompt instead (application.echo).
NOT_SUMMARISED = (
    "No summary could be written: the model repeated its instructions instead of "
    "summarising. The window's first messages are cited."
)
ECHO_CITATIONS = 3
# Joins, calls and deleted messages say nothing worth summarising.
KINDS = ["text", "media", "poll"]


@dataclass(frozen=True)
class Window:
    """What to summarise: a chat, a sender, a time window, or any mix."""

    chat: str | list[str] | None = None
    sender: str | list[str] | None = None
    since: str | None = None
    until: str | None = None
    version: int | None = None
    model: str | None = None


@dataclass(frozen=True)
class RecordedSummary:
    id: str
    collection_id: str
    summary: str
    citations: list[dict[str, Any]]
    chunks: int
    messages: int
    filters: dict[str, Any]
    model: str | None
    version: int
    created_at: datetime


def _recorded(row: Summary) -> RecordedSummary:
    return RecordedSummary(
        id=row.id,
        collection_id=row.collection_id,
        summary=row.summary,
        citations=row.citations,
        chunks=row.chunks,
        messages=row.messages,
        filters=row.filters,
        model=row.model,
        version=row.version,
        created_at=row.created_at,
    )


def summarize(
    backends: Backends, caller: Caller, collection_id: str, window: Window
) -> RecordedSummary:
    settings = backends.settings
    filters = build_filters(
        FilterValues(
            chat=window.chat,
            sender=window.sender,
            since=window.since,
            until=window.until,
            kind=KINDS,
        )
    )
    shown = filters.model_dump(mode="json", exclude_defaults=True, exclude={"kind"})
    empty = indexed_version(backends, caller, collection_id) == 0
    if empty and window.version is not None:
        raise NotFound("version_not_found", f"no version {window.version}")
    version, messages, total = 0, [], 0
    if not empty:
        listed = backends.rpc.call(
            schemas.MessagesListRequested(
                org_id=caller.org_id,
                collection_id=collection_id,
                filters=filters,
                version=window.version,
                limit=settings.summary_max_messages,
            ),
            schemas.MessagesListed,
        )
        version, messages, total = listed.version, listed.messages, listed.total
    if total > settings.summary_max_messages:
        raise TooLarge(
            "window_too_large",
            f"the window holds {total} messages; a summary covers at most "
            f"{settings.summary_max_messages}: narrow it with chat, sender, since "
            "or until",
        )
    model, text, citations, chunks = None, NOTHING, [], 0
    if messages:
        runs_on = org_models.resolve(backends, caller, window.model, "summaries")
        done = usage.summarize(
            backends,
            caller,
            schemas.SummarizeRequested(
                messages=messages,
                model=runs_on.model,
                provider=runs_on.provider,
                max_new_tokens=settings.summary_max_tokens,
            ),
            settings.summary_timeout_s,
        )
        model, text, chunks = done.model, done.summary.strip() or NOTHING, done.chunks
        cited = done.cited
        if echoed(text, [SYSTEM]):  # the inference's map prompt opens as the answers' does
            text, cited = NOT_SUMMARISED, list(range(1, min(len(messages), ECHO_CITATIONS) + 1))
        citations = [citation(n, messages[n - 1]) for n in cited]
    with backends.sessions() as session:
        row = Summary(
            org_id=caller.org_id,
            collection_id=collection_id,
            filters=shown,
            summary=text,
            citations=citations,
            chunks=chunks,
            messages=len(messages),
            model=model,
            version=version,
            created_by=caller.user_id,
            # whole seconds: what MariaDB keeps
            created_at=backends.clock().replace(microsecond=0, tzinfo=None),
        )
        session.add(row)
        session.commit()
        return _recorded(row)


def get_summary(backends: Backends, caller: Caller, summary_id: str) -> RecordedSummary:
    with backends.sessions() as session:
        return _recorded(jobs.owned(session, Summary, summary_id, caller.org_id, "summary"))
