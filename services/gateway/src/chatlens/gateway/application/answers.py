"""Answers with citations (RAG): read the question's scope, retrieve with hybrid search in the
caller's org, generate, cite, record.

A question is checked for injection before anything is retrieved; when retrieval finds nothing
relevant the model is not asked at all. :func:`prepare` does everything up to the generation,
so the view can either wait for the answer (:func:`answer`) or stream it, and in both cases the
draft's :meth:`Draft.record` cites and stores the text the model wrote.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatlens.gateway import jobs
from chatlens.gateway.application import org_models, search_log, usage
from chatlens.gateway.application.counting import Counting, count, recognise
from chatlens.gateway.application.echo import echoed
from chatlens.gateway.application.errors import AppError, NotFound
from chatlens.gateway.application.grounding import extract, ground
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.prompting import (
    NO_ANSWER,
    SYSTEM,
    build_prompt,
    citation,
    cited_numbers,
    fallback_numbers,
    relevant,
)
from chatlens.gateway.application.queries import FilterValues, build_filters, query_vector
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.gateway.db import Answer
from chatlens.gateway.injection import refuse_injection
from chatlens.gateway.question_filters import QuestionFilters, interpret
from chatlens.shared import schemas

MAX_KEYWORD_QUERY = 2000  # the index's limit on the keyword query
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
FILTER_FIELDS = ("platform", "chat", "sender", "kind", "since", "until", "person")


@dataclass(frozen=True)
class Question:
    question: str
    k: int = 6
    version: int | str | None = None
    filters: FilterValues | None = None  # explicit: each field given wins over the question's
    model: str | None = None  # None: the org's default for answers (org_models.resolve)


@dataclass(frozen=True)
class Scope:
    filters: schemas.SearchFilters
    view: dict[str, Any]  # {"applied", "from_question", "from_request"}: the answer's ``filters``

    def describe(self) -> str:
        """The question's filters in words, for an answer that found nothing under them."""
        return "; ".join(
            f"{name} from \u201c{words}\u201d" for name, words in self.view["from_question"].items()
        )


@dataclass(frozen=True)
class RecordedAnswer:
    id: str
    collection_id: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    model: str | None
    version: int
    filters: dict[str, Any]
    created_at: datetime
    # The grounding check's finding (``grounding.Grounded.view``); None when no model wrote it.
    grounding: dict[str, Any] | None = None
    extractive: bool = False  # the answer quotes a message instead of the model's words


@dataclass
class Draft:
    """A question retrieved for: the generation to run (None: nothing relevant was found, the
    answer is ``no_answer``) and :meth:`record` for the text the model writes."""

    request: schemas.GenerateRequested | None
    no_answer: str
    record: Callable[[str, str | None], RecordedAnswer] = field(repr=False)


def unscoped() -> Scope:
    return Scope(schemas.SearchFilters(), {"applied": {}, "from_question": {}, "from_request": []})


def scope(given: FilterValues | None, read: QuestionFilters) -> Scope:
    """``given`` (explicit, field by field) over ``read`` (the question's own)."""
    given = given or FilterValues()
    explicit = [name for name in FILTER_FIELDS if getattr(given, name) is not None]
    merged = {name: getattr(given, name) for name in FILTER_FIELDS}
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
    filters = build_filters(FilterValues(**merged))
    return Scope(
        filters,
        {
            "applied": filters.model_dump(mode="json", exclude_defaults=True),
            "from_question": from_question,
            "from_request": explicit,
        },
    )


def read_question(
    backends: Backends, caller: Caller, collection_id: str, question: str, version: int | None
) -> QuestionFilters:
    """The question's own filters, read against the collection's real senders and chats.

    Dates resolve against the collection, not the clock, when the collection ends before now:
    "in February" is the latest February up to its last message, "last week" the week before
    it (a chat exported last year is asked about as it was)."""
    facets = backends.rpc.call(
        schemas.FacetsRequested(org_id=caller.org_id, collection_id=collection_id, version=version),
        schemas.FacetsListed,
    )
    senders, chats = [f.value for f in facets.senders], [f.value for f in facets.chats]
    now = backends.clock()
    read = interpret(question, senders, chats, now)
    if read.since is None and read.until is None or _YEAR.search(read.matched.get("dates", "")):
        return read  # no dates, or dates that name their year: nothing to anchor
    try:
        overview = backends.rpc.call(
            schemas.AnalyticsRequested(
                org_id=caller.org_id,
                collection_id=collection_id,
                report="overview",
                version=version,
            ),
            schemas.AnalyticsAnswered,
        ).result
    except AppError:  # anchoring is a refinement: without the span, the clock decides
        return read
    last = overview.get("last")
    if last is None or datetime.fromisoformat(last) >= now:
        return read
    return interpret(question, senders, chats, datetime.fromisoformat(last))


def retrieve(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    question: str,
    k: int,
    filters: schemas.SearchFilters | None = None,
    version: int | None = None,
) -> tuple[int, list[schemas.SearchHit]]:
    """The collection's hybrid top ``k`` for ``question`` within ``filters``, at ``version``
    (None: the latest), and the index version searched."""
    answered = backends.rpc.call(
        schemas.SearchRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            mode="hybrid",
            vector=query_vector(backends.rpc, "hybrid", question),
            query=question[:MAX_KEYWORD_QUERY],
            k=k,
            context=0,
            filters=filters or schemas.SearchFilters(),
            version=version,
        ),
        schemas.SearchAnswered,
    )
    return answered.version, answered.hits


def prepare(backends: Backends, caller: Caller, collection_id: str, asked: Question) -> Draft:
    """Everything before the generation: checks, the question's scope, retrieval, the prompt."""
    refuse_injection(asked.question)  # before anything is retrieved or generated
    started = time.perf_counter()
    settings = backends.settings
    empty = indexed_version(backends, caller, collection_id) == 0
    if empty and asked.version is not None:
        raise NotFound("version_not_found", f"no version {asked.version}")
    chosen, version, hits = unscoped(), 0, list[schemas.SearchHit]()
    if not empty:
        pinned = resolve_version(backends, caller, collection_id, asked.version)
        read = read_question(backends, caller, collection_id, asked.question, pinned)
        chosen = scope(asked.filters, read)
        counting = recognise(asked.question)
        if counting is not None:  # counted exactly, not retrieved and guessed
            return _counted_draft(
                backends, caller, collection_id, asked, counting, chosen, pinned, started
            )
        version, hits = retrieve(
            backends, caller, collection_id, asked.question, asked.k, chosen.filters, pinned
        )
    used = relevant(hits, settings.answer_min_score)
    evidence = [h.message for h in used]
    prompt = build_prompt(asked.question, evidence)
    no_answer = NO_ANSWER
    if chosen.view["from_question"]:
        no_answer += f" (Searched only: {chosen.describe()}.)"

    def record(text: str, model: str | None) -> RecordedAnswer:
        """Cite what ``text`` rests on, check it against what it cites, store the answer."""
        citations, checked = [], None
        if model is not None:
            numbers = cited_numbers(text, len(evidence))
            if not numbers:  # the small model seldom cites: cite the best of what it was given
                numbers = fallback_numbers(used)
            if echoed(text, [SYSTEM], prompt):  # it repeated its prompt: no answer, a quote
                grounded = extract(
                    asked.question, evidence, fallback_numbers(used), "echoed_prompt"
                )
            else:
                grounded = ground(text, asked.question, evidence, numbers)
            text, checked = grounded.text, grounded.view()
            citations = [citation(n, evidence[n - 1]) for n in grounded.cited]
        return _store(
            backends,
            caller,
            collection_id,
            asked,
            text,
            citations,
            model,
            version,
            chosen.view,
            started,
            checked,
        )

    request = None
    if evidence:
        runs_on = org_models.resolve(backends, caller, asked.model, "answers")
        request = schemas.GenerateRequested(
            prompt=prompt,
            system=SYSTEM,
            max_new_tokens=settings.answer_max_tokens,
            model=runs_on.model,
            provider=runs_on.provider,
        )
    return Draft(request, no_answer, record)


def _counted_draft(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    asked: Question,
    counting: Counting,
    chosen: Scope,
    pinned: int | None,
    started: float,
) -> Draft:
    """A counting question's answer, from the analytics engine: recorded without a model, with
    the query it ran and example messages as citations."""
    counted = count(backends, caller, collection_id, counting, chosen.filters, pinned)
    view = {**chosen.view, "counted": counted.query}
    citations = [citation(n, message) for n, message in enumerate(counted.examples, start=1)]

    def record(text: str, model: str | None) -> RecordedAnswer:
        return _store(
            backends,
            caller,
            collection_id,
            asked,
            text,
            citations,
            None,
            counted.version,
            view,
            started,
        )

    return Draft(None, counted.text, record)


def _store(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    asked: Question,
    text: str,
    citations: list[dict[str, Any]],
    model: str | None,
    version: int,
    view: dict[str, Any],
    started: float,
    checked: dict[str, Any] | None = None,
) -> RecordedAnswer:
    """Store the answer, and count the question in the search analytics (mode ``ask``, its
    citations as results, the time since :func:`prepare` began)."""
    with backends.sessions() as session:
        row = Answer(
            org_id=caller.org_id,
            collection_id=collection_id,
            question=asked.question,
            answer=text,
            citations=citations,
            model=model,
            version=version,
            filters=view,
            grounding=checked,
            created_by=caller.user_id,
            # Whole seconds: MariaDB's DATETIME keeps no more, and the answer we
            # return now must equal the one GET returns later.
            created_at=backends.clock().replace(microsecond=0, tzinfo=None),
        )
        session.add(row)
        session.commit()
        done = recorded(row)
    search_log.record(
        backends,
        caller,
        [collection_id],
        "ask",
        asked.question,
        {collection_id: len(citations)},
        time.perf_counter() - started,
    )
    return done


def answer(
    backends: Backends, caller: Caller, collection_id: str, asked: Question
) -> RecordedAnswer:
    """The answer, waited for."""
    draft = prepare(backends, caller, collection_id, asked)
    if draft.request is None:
        return draft.record(draft.no_answer, None)
    generated = usage.generate(backends, caller, draft.request)
    return draft.record(generated.text.strip() or NO_ANSWER, generated.model)


def recorded(row: Answer) -> RecordedAnswer:
    return RecordedAnswer(
        id=row.id,
        collection_id=row.collection_id,
        question=row.question,
        answer=row.answer,
        citations=row.citations,
        model=row.model,
        version=row.version,
        filters=row.filters or {},
        created_at=row.created_at,
        grounding=row.grounding,
        extractive=bool(row.grounding and row.grounding.get("extractive")),
    )


def get_answer(backends: Backends, caller: Caller, answer_id: str) -> RecordedAnswer:
    with backends.sessions() as session:
        return recorded(jobs.owned(session, Answer, answer_id, caller.org_id, "answer"))
