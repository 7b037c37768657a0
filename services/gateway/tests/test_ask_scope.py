"""/ask reads the question's own filters, lets explicit ones win, and pins index versions."""

from __future__ import annotations

from datetime import UTC, datetime

from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError

from .test_answers import (
    chat_message,
    embed,
    fake_services,
    indexed_collection,
    inference,
    with_facets,
)


def recording_index(seen: dict, version: int = 3):
    def index(request, delivery):
        if isinstance(request, schemas.SearchRequested):
            seen.setdefault("search", []).append(request)
            if request.version not in (None, 1, 2, 3):
                raise PermanentError(f"no version {request.version}", code="version_not_found")
            hit = schemas.SearchHit(
                message=chat_message("m1", "The venue is booked"), score=0.1, semantic_score=0.8
            )
            return schemas.SearchAnswered(version=request.version or version, hits=[hit])
        if isinstance(request, schemas.TagsListRequested):
            return schemas.TagsListed(tags=[schemas.TagInfo(name="launch", version=2)])
        raise AssertionError(f"unexpected {request.type}")

    return with_facets(index, senders=("Alice", "Marta"), chats=("ops", "Team"))


def ask(client, collection_id, headers, **body):
    return client.post(f"/api/v1/collections/{collection_id}/ask", json=body, headers=headers)


def test_the_questions_sender_and_month_filter_the_retrieval_and_are_reported(
    app, client, auth, amqp_url
):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=3)
    seen: dict = {}
    with fake_services(
        amqp_url, embedding=embed, index=recording_index(seen), inference=inference(seen)
    ):
        response = ask(
            client, collection_id, headers, question="What did Alice say in #ops in March 2025?"
        )

    assert response.status_code == 201, response.json
    [search] = seen["search"]
    assert search.filters.sender == ["Alice"] and search.filters.chat == ["ops"]
    assert search.filters.since == datetime(2025, 3, 1, tzinfo=UTC)
    assert search.filters.until == datetime(2025, 4, 1, tzinfo=UTC)
    filters = response.json["filters"]
    assert filters["from_question"] == {
        "sender": "did Alice",
        "chat": "#ops",
        "dates": "in March 2025",
    }
    assert filters["from_request"] == []
    assert filters["applied"]["sender"] == ["Alice"]
    stored = client.get(f"/api/v1/answers/{response.json['id']}", headers=headers)
    assert stored.json["filters"] == filters


def test_explicit_filters_win_over_the_questions_field_by_field(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=3)
    seen: dict = {}
    with fake_services(
        amqp_url, embedding=embed, index=recording_index(seen), inference=inference(seen)
    ):
        response = ask(
            client,
            collection_id,
            headers,
            question="What did Alice say in March 2025?",
            filters={"sender": "Marta", "since": "2025-01-01"},
        )

    assert response.status_code == 201, response.json
    [search] = seen["search"]
    assert search.filters.sender == ["Marta"]
    assert search.filters.since == datetime(2025, 1, 1, tzinfo=UTC)
    assert search.filters.until is None  # the dates are a pair: the request's replace both
    assert response.json["filters"]["from_request"] == ["sender", "since"]
    assert response.json["filters"]["from_question"] == {}


def test_a_pinned_version_is_searched_and_recorded(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=3)
    seen: dict = {}
    with fake_services(
        amqp_url, embedding=embed, index=recording_index(seen), inference=inference(seen)
    ):
        pinned = ask(client, collection_id, headers, question="When is the offsite?", version=2)
        unknown = ask(client, collection_id, headers, question="When is the offsite?", version=9)

    assert pinned.status_code == 201 and pinned.json["version"] == 2
    assert [s.version for s in seen["search"]] == [2, 9]
    assert unknown.status_code == 404
    assert unknown.json["error"]["code"] == "version_not_found"


def test_a_tag_names_the_version_to_answer_from(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=3)
    seen: dict = {}
    with fake_services(
        amqp_url, embedding=embed, index=recording_index(seen), inference=inference(seen)
    ):
        tagged = ask(
            client, collection_id, headers, question="When is the offsite?", version="launch"
        )
        unknown = ask(
            client, collection_id, headers, question="When is the offsite?", version="no-such-tag"
        )

    assert tagged.status_code == 201 and tagged.json["version"] == 2
    assert [s.version for s in seen["search"]] == [2]
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "tag_not_found")


def test_a_version_of_a_collection_with_none_yet_is_not_found(app, client, auth):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=0)

    response = ask(client, collection_id, headers, question="Anything?", version=1)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "version_not_found"


def test_a_negative_version_is_a_validation_error(app, client, auth):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=1)

    response = ask(client, collection_id, headers, question="Anything?", version=-1)

    assert response.status_code == 422
