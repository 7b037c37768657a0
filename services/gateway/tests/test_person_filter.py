"""The ``person`` filter through the gateway (issue 12): search and /ask hand it to the index,
which resolves the person's names in the version searched (``services/index/tests/
test_person_filter.py``); a question's counting path carries it to analytics too."""

from __future__ import annotations

import pytest

from chatlens.gateway.application import answers, errors, search
from chatlens.gateway.application.ports import Caller
from chatlens.gateway.application.queries import FilterValues
from chatlens.shared import schemas

from . import test_application as app_tier
from .test_application import collection, embedded, found

# The application tier's fixtures (SQLite, the in-memory bus, its fake services).
backends_with, services, sessions = app_tier.backends_with, app_tier.services, app_tier.sessions


def test_a_search_sends_the_person_to_the_index(sessions, backends_with):
    backends = backends_with({schemas.EmbedQuery: embedded, schemas.SearchRequested: found})
    result = search.search(
        backends,
        Caller("org-a"),
        collection(sessions),
        search.SearchQuery(
            query="lisbon", filters=FilterValues(person="Sam W", sender=["Sam", "Wei"])
        ),
    )
    sent = backends.fake.sent[-1]
    assert sent.filters.person == ["Sam W"] and sent.filters.sender == ["Sam", "Wei"]
    assert result.interpreted["filters"]["person"] == ["Sam W"]


def test_too_many_people_are_refused(sessions, backends_with):
    backends = backends_with({})
    with pytest.raises(errors.Invalid) as refused:
        search.search(
            backends,
            Caller("org-a"),
            collection(sessions),
            search.SearchQuery(
                query="lisbon", filters=FilterValues(person=[f"p{i}" for i in range(21)])
            ),
        )
    assert refused.value.code == "too_many_filters"


def overview(request):
    return schemas.AnalyticsAnswered(
        version=2, report=request.report, timezone="UTC", result={"messages": 7, "last": None}
    )


@pytest.mark.parametrize("question", ["Where is the offsite?", "How many messages were sent?"])
def test_a_question_retrieves_or_counts_within_the_person(sessions, backends_with, question):
    facets = schemas.FacetsListed(version=2, senders=[], chats=[])
    people = schemas.AnalyticsAnswered(
        version=2, report="people", timezone="UTC", result={"people": [], "total": 0}
    )
    generated = schemas.Generated(
        text="In Lisbon [1].", model="smol", prompt_tokens=5, tokens=4, finish_reason="stop"
    )
    listed = schemas.MessagesListed(version=2, messages=[], total=0)
    backends = backends_with(
        {
            schemas.FacetsRequested: facets,
            schemas.EmbedQuery: embedded,
            schemas.SearchRequested: found,
            schemas.GenerateRequested: generated,
            schemas.MessagesListRequested: listed,
            schemas.AnalyticsRequested: lambda r: overview(r) if r.report == "overview" else people,
        }
    )
    answer = answers.answer(
        backends,
        Caller("org-a", "u1"),
        collection(sessions),
        answers.Question(question, filters=FilterValues(person="Sam W")),
    )
    # What was retrieved, counted or listed as examples (not the version's plain overview).
    asked = [
        m
        for m in backends.fake.sent
        if isinstance(
            m, (schemas.SearchRequested, schemas.AnalyticsRequested, schemas.MessagesListRequested)
        )
        and m.filters != schemas.SearchFilters()
    ]
    assert asked and all(m.filters.person == ["Sam W"] for m in asked)
    assert answer.filters["applied"]["person"] == ["Sam W"]
    assert "person" in answer.filters["from_request"]
    if "How many" in question:
        assert "by Sam W (every name of each person)" in answer.answer
