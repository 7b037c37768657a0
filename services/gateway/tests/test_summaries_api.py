"""POST /collections/{id}/summaries: the window from the index, the summary from inference,
bounded, recorded, and in the caller's org only (fake services on the real bus)."""

from __future__ import annotations

from datetime import UTC, datetime

from chatlens.shared import schemas

from .test_answers import chat_message, fake_services, indexed_collection

LLM = "SmolLM2-135M-Instruct"


def window_index(seen: dict, messages: list[schemas.ChatMessage], total: int | None = None):
    def index(request, delivery):
        seen.setdefault("index", []).append(request)
        assert isinstance(request, schemas.MessagesListRequested)
        return schemas.MessagesListed(
            version=request.version or 4,
            total=len(messages) if total is None else total,
            messages=messages[: request.limit],
        )

    return index


def summarizer(seen: dict):
    def inference(request, delivery):
        seen.setdefault("inference", []).append(request)
        return schemas.Summarized(
            model=LLM, summary="The venue in Lisbon was booked [2].", cited=[2], chunks=3, tokens=40
        )

    return inference


def summarise(client, collection_id, headers, **body):
    return client.post(f"/api/v1/collections/{collection_id}/summaries", json=body, headers=headers)


def test_a_chats_window_is_summarised_with_citations_and_recorded(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=4)
    messages = [
        chat_message("m1", "where shall we go?"),
        chat_message("m2", "Booked the venue in Lisbon", sender="Sam"),
    ]
    seen: dict = {}
    with fake_services(amqp_url, index=window_index(seen, messages), inference=summarizer(seen)):
        response = summarise(
            client, collection_id, headers, chat="Team", since="2025-02-01", until="2025-03-01"
        )

    assert response.status_code == 201, response.json
    body = response.json
    assert body["summary"] == "The venue in Lisbon was booked [2]."
    assert [c["message_id"] for c in body["citations"]] == ["m2"]
    assert body["citations"][0]["sender"] == "Sam"
    assert (body["chunks"], body["messages"], body["model"], body["version"]) == (3, 2, LLM, 4)
    assert body["filters"] == {
        "chat": ["Team"],
        "since": "2025-02-01T00:00:00Z",
        "until": "2025-03-01T00:00:00Z",
    }
    [listed] = seen["index"]
    assert (listed.org_id, listed.collection_id) == ("org-a", collection_id)
    assert listed.filters.chat == ["Team"] and "system" not in listed.filters.kind
    assert listed.filters.since == datetime(2025, 2, 1, tzinfo=UTC)
    [asked] = [r for r in seen["inference"] if isinstance(r, schemas.SummarizeRequested)]
    assert [m.message_id for m in asked.messages] == ["m1", "m2"]

    stored = client.get(f"/api/v1/summaries/{body['id']}", headers=headers)
    assert stored.status_code == 200 and stored.json == body
    other = client.get(f"/api/v1/summaries/{body['id']}", headers=auth(org="org-b"))
    assert other.status_code == 404 and other.json["error"]["code"] == "summary_not_found"


def test_a_window_over_the_limit_is_413_with_the_limit_and_generates_nothing(
    app, client, auth, amqp_url, settings
):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=4)
    limit = settings.summary_max_messages
    seen: dict = {}
    with fake_services(
        amqp_url,
        index=window_index(seen, [chat_message("m1", "hi")], total=limit + 1),
        inference=summarizer(seen),
    ):
        response = summarise(client, collection_id, headers, chat="Team")

    assert response.status_code == 413
    assert response.json["error"]["code"] == "window_too_large"
    assert str(limit) in response.json["error"]["message"]
    assert "inference" not in seen


def test_too_many_map_steps_in_inference_is_413_too(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=4)

    def refusing(request, delivery):
        from chatlens.shared.bus import PermanentError

        raise PermanentError("the window needs 40 chunks; at most 16", code="summary_too_long")

    with fake_services(
        amqp_url, index=window_index({}, [chat_message("m1", "hi")]), inference=refusing
    ):
        response = summarise(client, collection_id, headers)

    assert response.status_code == 413
    assert response.json["error"]["code"] == "window_too_large"
    assert "at most 16" in response.json["error"]["message"]


def test_an_empty_window_says_so_without_asking_the_model(app, client, auth, amqp_url):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=4)
    seen: dict = {}
    with fake_services(amqp_url, index=window_index(seen, []), inference=summarizer(seen)):
        response = summarise(client, collection_id, headers, sender="Nobody")

    assert response.status_code == 201
    assert response.json["summary"] == "There are no messages in that window."
    assert response.json["chunks"] == 0 and response.json["model"] is None
    assert "inference" not in seen


def test_bad_windows_are_refused_and_other_orgs_collections_are_not_found(app, client, auth):
    headers = auth()
    collection_id = indexed_collection(app, client, headers, version=4)

    backwards = summarise(client, collection_id, headers, since="2025-03-01", until="2025-02-01")
    not_a_date = summarise(client, collection_id, headers, since="someday soon")
    unknown_field = summarise(client, collection_id, headers, channel="ops")
    elsewhere = summarise(client, collection_id, auth(org="org-b"))
    viewer_less = summarise(client, collection_id, auth(role="nobody"))

    assert backwards.status_code == 422
    assert backwards.json["error"]["code"] == "invalid_date_range"
    assert not_a_date.status_code == 422 and not_a_date.json["error"]["code"] == "invalid_date"
    assert unknown_field.status_code == 422
    assert elsewhere.status_code == 404
    assert viewer_less.status_code == 403
