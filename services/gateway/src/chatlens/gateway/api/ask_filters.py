"""The filters an answer's retrieval uses: the request's, and what the question itself says.

The question is read against the collection's real senders and chats (the index's facets, at the
version asked about) by :mod:`chatlens.gateway.question_filters`. A filter the request gives
explicitly wins over the question's for that field (sender, chat, or the dates as a pair); the
answer says which filters were used and the words each was read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chatlens.gateway.api import models
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.search import build_filters
from chatlens.gateway.queryparse import ParsedQuery
from chatlens.gateway.question_filters import QuestionFilters, interpret
from chatlens.shared import schemas


@dataclass(frozen=True)
class Scope:
    filters: schemas.SearchFilters
    view: dict  # {"applied", "from_question", "from_request"}: the answer's ``filters``

    def describe(self) -> str:
        """The question's filters in words, for an answer that found nothing under them."""
        return "; ".join(f"{name} from \u201c{words}\u201d"
                         for name, words in self.view["from_question"].items())


def unscoped() -> Scope:
    return Scope(schemas.SearchFilters(), {"applied": {}, "from_question": {},
                                           "from_request": []})


def read_question(org_id: str, collection_id: str, question: str,
                  version: int | None) -> QuestionFilters:
    facets = call(schemas.FacetsRequested(org_id=org_id, collection_id=collection_id,
                                          version=version))
    return interpret(question, [f.value for f in facets.senders],
                     [f.value for f in facets.chats], datetime.now(UTC))


def scope(given: models.SearchFiltersIn | None, read: QuestionFilters) -> Scope:
    """``given`` (explicit, field by field) over ``read`` (the question's own)."""
    given = given or models.SearchFiltersIn()
    explicit = [name for name in ("platform", "chat", "sender", "kind", "since", "until")
                if getattr(given, name) is not None]
    merged = given.model_dump()
    from_question: dict[str, str] = {}
    if given.sender is None and read.senders:
        merged["sender"] = read.senders
        from_question["sender"] = read.matched["sender"]
    if given.chat is None and read.chats:
        merged["chat"] = read.chats
        from_question["chat"] = read.matched["chat"]
    if given.since is None and given.until is None and (read.since or read.until):
        merged["since"] = read.since.isoformat() if read.since else None
        merged["until"] = read.until.isoformat() if read.until else None
        from_question["dates"] = read.matched["dates"]
    filters = build_filters(models.SearchFiltersIn(**merged), ParsedQuery(text=""))
    return Scope(filters, {"applied": filters.model_dump(mode="json", exclude_defaults=True),
                           "from_question": from_question, "from_request": explicit})
