"""A search's words and filters, as the index will get them: the request's filters and the
query's operators together (``chatlens.gateway.queryparse``), checked once for every use case
that searches (search, across collections and versions, ask, summaries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatlens.gateway.application.errors import Invalid
from chatlens.gateway.application.ports import Rpc
from chatlens.gateway.queryparse import ParsedQuery, parse_date, parse_query
from chatlens.shared import schemas

# The most values one filter field takes.
FILTER_LIMITS = {"platform": 20, "chat": 50, "sender": 50, "kind": 7, "person": 20}


@dataclass(frozen=True)
class FilterValues:
    """Filters as a client gives them: each field one value or alternatives; dates as text."""

    platform: str | list[str] | None = None
    chat: str | list[str] | None = None
    sender: str | list[str] | None = None
    kind: str | list[str] | None = None
    since: str | None = None
    until: str | None = None
    person: str | list[str] | None = None  # every sender name of the person (people merges)


@dataclass(frozen=True)
class Interpreted:
    """A query read: its text, the filters it and the request give, and how it was read."""

    parsed: ParsedQuery
    filters: schemas.SearchFilters
    mode: str
    view: dict[str, Any] = field(default_factory=dict)  # the response's ``interpreted``


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    return [v.strip() for v in values if v.strip()]


def build_filters(given: FilterValues, parsed: ParsedQuery | None = None) -> schemas.SearchFilters:
    """The request's filters and the query's operators together.

    Names from both are alternatives (``from:Sam`` with ``sender: "Marta"`` finds either);
    dates narrow: the later ``since`` and the earlier ``until`` win.
    """
    parsed = parsed or ParsedQuery(text="")
    since = [parsed.since] if parsed.since else []
    until = [parsed.until] if parsed.until else []
    if given.since:
        since.append(parse_date(given.since, "filters.since"))
    if given.until:
        until.append(parse_date(given.until, "filters.until"))
    values = {
        "platform": _as_list(given.platform),
        "chat": _as_list(given.chat) + parsed.chats,
        "sender": _as_list(given.sender) + parsed.senders,
        "kind": _as_list(given.kind),
        "person": _as_list(given.person),
    }
    for name, limit in FILTER_LIMITS.items():
        if len(values[name]) > limit:
            raise Invalid("too_many_filters", f"at most {limit} values for {name}")
    filters = schemas.SearchFilters(
        **values, since=max(since) if since else None, until=min(until) if until else None
    )
    if filters.since and filters.until and filters.since >= filters.until:
        raise Invalid("invalid_date_range", "since must be before until")
    return filters


def interpret(query: str, mode: str, given: FilterValues) -> Interpreted:
    """``query`` read for a search in ``mode``; ``Invalid`` when only operators are left."""
    parsed = parse_query(query)
    filters = build_filters(given, parsed)
    if not parsed.semantic_text:
        raise Invalid("empty_query", "the query has no words besides its operators")
    view = {
        "text": parsed.text,
        "mode": mode,
        "filters": filters.model_dump(mode="json", exclude_defaults=True),
    }
    return Interpreted(parsed, filters, mode, view)


def query_vector(rpc: Rpc, mode: str, text: str) -> list[float] | None:
    """The query's embedding for semantic and hybrid search (None for keyword search)."""
    if mode not in ("semantic", "hybrid"):
        return None
    embedded = rpc.call(schemas.EmbedQuery(texts=[text]), schemas.QueryEmbedded)
    vector: list[float] = embedded.vectors.to_array()[0].tolist()
    return vector
