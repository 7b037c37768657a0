"""How search hits, opened messages and citations look in responses (every view's one way)."""

from __future__ import annotations

import html

from chatlens.gateway.application.queries import FilterValues
from chatlens.shared import schemas


def filter_values(given) -> FilterValues:
    """A request's ``SearchFiltersIn`` as the application layer takes it."""
    return FilterValues(**given.model_dump()) if given is not None else FilterValues()


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` HTML-escaped, with each span wrapped in ``<mark>``."""
    out, last = [], 0
    for start, end in spans:
        out += [html.escape(text[last:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def message_view(message: schemas.ChatMessage) -> dict:
    """A neighbouring message, as a hit's context or an opened message's shows it."""
    return {
        "message_id": message.message_id,
        "sender": message.sender,
        "sent_at": message.sent_at.isoformat(),
        "text": message.text,
    }


def hit_view(hit: schemas.SearchHit) -> dict:
    message = hit.message
    return {
        "message_id": message.message_id,
        "platform": message.platform,
        "chat": message.chat,
        "sender": message.sender,
        "sent_at": message.sent_at.isoformat(),
        "text": message.text,
        "score": hit.score,
        "semantic_score": hit.semantic_score,
        "keyword_score": hit.keyword_score,
        "highlights": [list(span) for span in hit.highlights],
        "highlighted": highlighted(message.text, hit.highlights),
        "context": [message_view(m) for m in hit.context],
        "collection_id": hit.collection_id,
    }
