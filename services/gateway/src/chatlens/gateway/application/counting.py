"""Answers that count instead of guessing: "how many messages did Marta send?", "who wrote the
most?", "when did Sam first write?", "what was the busiest day?".

A small model cannot count; the index can, exactly (the analytics reports, DuckDB over the
version's live messages). :func:`recognise` tells a counting question from any other; the
figure comes from a report run with the question's own filters (its senders, chats and dates,
read as for any answer); the answer says the figure, the query that gave it (filters, period,
people) and cites example messages. The model is not asked: a sentence from a template is
exact, where a 135M model rephrasing a number is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chatlens.gateway.application.ports import Backends, Caller
from chatlens.shared import schemas

Kind = Literal["count", "most", "least", "first", "last", "busiest"]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EXAMPLES = 3  # messages cited with a figure

_QUANTITY = {
    "messages": "messages",
    "message": "messages",
    "texts": "messages",
    "words": "words",
    "links": "links",
    "emoji": "emoji",
    "emojis": "emoji",
    "photos": "media",
    "pictures": "media",
    "media": "media",
    "files": "media",
}
_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    (
        "count",
        re.compile(
            r"\bhow\s+many\s+(?P<what>messages?|texts|words|links|emojis?|photos|"
            r"pictures|media|files)\b",
            re.I,
        ),
    ),
    ("count", re.compile(r"\b(?:number|count)\s+of\s+(?P<what>messages|words|links)\b", re.I)),
    (
        "most",
        re.compile(
            r"\bwho\s+(?:\w+\s+){0,2}(?:the\s+)?most\b|\bmost\s+active\b|"
            r"\bwho\s+(?:talks|writes|posts|chats)\s+(?:the\s+)?most\b",
            re.I,
        ),
    ),
    (
        "least",
        re.compile(
            r"\bwho\s+(?:\w+\s+){0,2}(?:the\s+)?(?:least|fewest)\b|"
            r"\bleast\s+active\b",
            re.I,
        ),
    ),
    ("first", re.compile(r"\bwhen\s+did\s+.+?\s+first\b|\bfirst\s+(?:message|time)\b", re.I)),
    ("last", re.compile(r"\bwhen\s+did\s+.+?\s+last\b|\blast\s+(?:message|time)\b", re.I)),
    (
        "busiest",
        re.compile(
            r"\bbusiest\s+(?P<unit>day|hour|weekday|month|time)\b|"
            r"\bwhich\s+(?P<unit2>day|hour|weekday|month)\s+.*\bmost\b",
            re.I,
        ),
    ),
]


@dataclass(frozen=True)
class Counting:
    kind: Kind
    quantity: str = "messages"  # what a "count" counts
    unit: str = "day"  # what a "busiest" ranks


@dataclass(frozen=True)
class Counted:
    """The answer's sentence, what it read, and the messages it cites."""

    text: str
    query: dict[str, Any]
    examples: list[schemas.ChatMessage]
    version: int = 0  # the version the figure describes


def recognise(question: str) -> Counting | None:
    """The counting question ``question`` asks, or None for any other question."""
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match is None:
            continue
        groups = {k: v for k, v in match.groupdict().items() if v}
        if kind == "count":
            return Counting("count", _QUANTITY[groups["what"].lower()])
        if kind == "busiest":
            unit = (groups.get("unit") or groups.get("unit2") or "day").lower()
            return Counting("busiest", unit="hour" if unit == "time" else unit)
        return Counting(kind)
    return None


def _report(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    report: str,
    filters: schemas.SearchFilters,
    version: int | None,
    **options: Any,
) -> schemas.AnalyticsAnswered:
    return backends.rpc.call(
        schemas.AnalyticsRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            report=report,
            filters=filters,
            version=version,
            **options,
        ),
        schemas.AnalyticsAnswered,
    )


def _examples(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    filters: schemas.SearchFilters,
    version: int | None,
    last: bool = False,
) -> list[schemas.ChatMessage]:
    authored = filters.model_copy(update={"kind": ["text", "media", "poll"]})
    listed = backends.rpc.call(
        schemas.MessagesListRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            filters=authored,
            version=version,
            limit=1000 if last else EXAMPLES,
        ),
        schemas.MessagesListed,
    )
    return listed.messages[-EXAMPLES:] if last else listed.messages[:EXAMPLES]


def scope_words(filters: schemas.SearchFilters) -> str:
    """The filters in words, as the answer states what it counted: "from Marta, in #ops,
    1 Feb 2025 to 28 Feb 2025"; empty for the whole collection."""
    words = []
    if filters.person:
        words.append("by " + ", ".join(filters.person) + " (every name of each person)")
    if filters.sender:
        words.append("from " + ", ".join(filters.sender))
    if filters.chat:
        words.append("in " + ", ".join(filters.chat))
    if filters.since or filters.until:
        since = filters.since.strftime("%d %b %Y") if filters.since else "the start"
        until = (
            (filters.until.strftime("%d %b %Y") + ", not included") if filters.until else "the end"
        )
        words.append(f"{since} to {until}")
    return "; ".join(words)


def _when(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%d %b %Y %H:%M") if value else "never"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n != 1 else f"1 {word.rstrip('s')}"


def count(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    counting: Counting,
    filters: schemas.SearchFilters,
    version: int | None,
) -> Counted:
    """Run the report ``counting`` needs within ``filters`` and say what it found, with the
    version it describes."""
    counted = _count(backends, caller, collection_id, counting, filters, version)
    if version is None:  # the latest: the version the report read
        answered = _report(
            backends, caller, collection_id, "overview", schemas.SearchFilters(), None
        )
        version = answered.version
    return Counted(counted.text, counted.query, counted.examples, version)


def _count(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    counting: Counting,
    filters: schemas.SearchFilters,
    version: int | None,
) -> Counted:
    senders = list(filters.sender)
    words = scope_words(filters)
    within = f" ({words})" if words else " (all messages)"
    query: dict[str, Any] = {
        "kind": counting.kind,
        "filters": filters.model_dump(mode="json", exclude_defaults=True),
    }
    one = filters.model_copy(update={"sender": senders[:1]}) if senders else filters
    if counting.kind == "busiest":
        overview = _report(backends, caller, collection_id, "overview", filters, version).result
        best = overview.get(f"busiest_{counting.unit}")
        query.update(report="overview", field=f"busiest_{counting.unit}")
        if not best:
            return Counted(f"There are no messages to rank{within}.", query, [])
        label = best.get(counting.unit)
        if counting.unit == "weekday":
            label = WEEKDAYS[int(label) - 1]
        elif counting.unit == "hour":
            label = f"{int(label):02d}:00-{int(label):02d}:59 UTC"
        return Counted(
            f"The busiest {counting.unit} was {label}, with "
            f"{_plural(best['messages'], 'messages')}{within}.",
            query,
            _examples(backends, caller, collection_id, filters, version),
        )
    if counting.kind == "count" and not senders:
        overview = _report(backends, caller, collection_id, "overview", filters, version).result
        field = {"messages": "messages", "words": "words", "links": "links", "media": "media"}.get(
            counting.quantity, "messages"
        )
        figure = int(overview.get(field, 0))
        query.update(report="overview", field=field)
        return Counted(
            f"{_plural(figure, counting.quantity)} were written{within}.",
            query,
            _examples(backends, caller, collection_id, filters, version),
        )
    people = _report(
        backends, caller, collection_id, "people", filters, version, limit=1000
    ).result["people"]
    query.update(report="people")
    if counting.kind in ("most", "least"):
        if not people:
            return Counted(f"Nobody wrote anything{within}.", query, [])
        ranked = sorted(people, key=lambda p: (-p["messages"], p["sender"]))
        pick = ranked[0] if counting.kind == "most" else ranked[-1]
        tied = [p["sender"] for p in ranked if p["messages"] == pick["messages"]]
        who = " and ".join(tied) if len(tied) <= 3 else f"{len(tied)} people"
        query.update(
            field="messages", order="descending" if counting.kind == "most" else "ascending"
        )
        text = (
            f"{who} wrote the {counting.kind} messages: {_plural(pick['messages'], 'messages')}"
            f" of {sum(p['messages'] for p in people)}{within}."
        )
        chosen = filters.model_copy(update={"sender": [pick["sender"]]})
        return Counted(text, query, _examples(backends, caller, collection_id, chosen, version))
    rows = {p["sender"]: p for p in people}
    if counting.kind in ("first", "last"):
        field = "first_seen" if counting.kind == "first" else "last_seen"
        query.update(field=field)
        if not senders:
            overview = _report(backends, caller, collection_id, "overview", filters, version).result
            moment = overview.get(counting.kind)
            return Counted(
                f"The {counting.kind} message was written on {_when(moment)}{within}.",
                query,
                _examples(
                    backends, caller, collection_id, filters, version, last=counting.kind == "last"
                )[:1],
            )
        row = rows.get(senders[0])
        if row is None:
            return Counted(f"{senders[0]} wrote nothing{within}.", query, [])
        return Counted(
            f"{senders[0]} {'first' if counting.kind == 'first' else 'last'} wrote "
            f"on {_when(row[field])}{within}.",
            query,
            _examples(backends, caller, collection_id, one, version, last=counting.kind == "last")[
                :1
            ],
        )
    # a count per sender
    parts, total = [], 0
    for sender in senders:
        figure = int(rows.get(sender, {}).get(counting.quantity, 0))
        total += figure
        parts.append(f"{sender} wrote {_plural(figure, counting.quantity)}")
    query.update(field=counting.quantity)
    return Counted(
        "; ".join(parts) + f"{within}.",
        query,
        _examples(backends, caller, collection_id, filters, version),
    )
