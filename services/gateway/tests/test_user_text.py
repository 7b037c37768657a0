"""Bad input that used to get through (issue 15.7), refused with a 4xx in the one error shape
and nothing stored: NUL, bidi overrides and invisible-only names; NUL in queries, questions and
filters; a path for a model name; choices the OpenAI-compatible API cannot give; a form of
thousands of fields. Text that is fine is stored in one form (NFC, trimmed)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from chatlens.gateway.db import Answer, Job, Summary

from .test_api import create_collection

BAD_NAMES = {
    "NUL": "Team\x00",
    "escape": "Team\x1b[31m",
    "bidi override": "Team\u202eexe.txt",
    "bidi isolate": "\u2067Team",
    "zero-width only": "\u200b\u200c\u200d",
    "Hangul filler only": "\u3164\u3164",
    "line break": "Team\nB",
    "blank": "   ",
}


@pytest.fixture
def database_url(tmp_path):  # validation happens before any database: one is enough
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def refused(response, status=422, code="validation_error"):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code, response.json
    return response.json["error"]["message"]


def collection_names(client, headers):
    return sorted(
        c["name"] for c in client.get("/api/v1/collections", headers=headers).json["collections"]
    )


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_collection_name_with_controls_overrides_or_nothing_visible_is_refused(
    client, auth, name
):
    headers = auth()
    before = collection_names(client, headers)
    refused(client.post("/api/v1/collections", json={"name": name}, headers=headers))
    refused(
        client.post(
            "/api/v1/collections", json={"name": "Fine", "description": "a\x00"}, headers=headers
        )
    )
    assert collection_names(client, headers) == before


def test_names_are_stored_in_one_form_and_right_to_left_writing_keeps_its_marks(client, auth):
    headers = auth()
    decomposed = "  Cafe\u0301 team  "
    created = client.post(
        "/api/v1/collections",
        headers=headers,
        json={"name": decomposed, "description": "line one\nline two"},
    )
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Caf\u00e9 team"  # NFC, trimmed
    assert created.json["description"] == "line one\nline two"  # a description may span lines
    hebrew = client.post(
        "/api/v1/collections", headers=headers, json={"name": "\u05e6\u05d5\u05d5\u05ea\u200f 2024"}
    )
    assert hebrew.status_code == 201, hebrew.json


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("search", {"query": "venue\x00"}),
        ("search", {"query": "venue", "filters": {"sender": "Ana\x00"}}),
        ("search", {"query": "venue", "filters": {"chat": ["ok", "\u202egro"]}}),
        ("search", {"query": "\u200b"}),
        ("ask", {"question": "who booked the venue?\x00"}),
        ("ask", {"question": "who booked \u202ethe venue?"}),
        ("summaries", {"chat": "Team\x00"}),
    ],
)
def test_nul_and_overrides_in_queries_questions_and_filters_are_refused(client, auth, path, body):
    headers = auth()
    collection_id = create_collection(client, headers)
    message = refused(
        client.post(f"/api/v1/collections/{collection_id}/{path}", json=body, headers=headers)
    )
    assert "\x00" not in message


def test_search_across_collections_refuses_a_nul_query_too(client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    refused(
        client.post(
            "/api/v1/search",
            headers=headers,
            json={"collections": [collection_id], "query": "a\x00b"},
        )
    )


@pytest.mark.parametrize(
    "model",
    ["../../../etc/passwd", "/etc/passwd", "a/../b", "smol lm", "x" * 201, ".hidden", "model\x00"],
)
def test_a_model_name_that_is_a_path_or_not_a_name_is_refused_everywhere(app, client, auth, model):
    headers = auth()
    collection_id = create_collection(client, headers)
    summaries = f"/api/v1/collections/{collection_id}/summaries"
    refused(client.post(summaries, json={"model": model}, headers=headers))
    refused(
        client.post(
            f"/api/v1/collections/{collection_id}/ask",
            headers=headers,
            json={"question": "who?", "model": model},
        )
    )
    chat = client.post(
        "/v1/chat/completions",
        headers=headers,
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert 400 <= chat.status_code < 500 and "error" in chat.json, chat.json
    refused(
        client.put(
            "/api/v1/admin/models/default", json={"model": model}, headers=auth(platform_admin=True)
        )
    )
    with app.extensions["chatlens.sessions"]() as session:  # nothing recorded
        assert session.scalar(select(func.count()).select_from(Summary)) == 0
        assert session.scalar(select(func.count()).select_from(Answer)) == 0


@pytest.mark.parametrize("extra", [{"n": 1000}, {"n": 2}, {"n": 0}, {"logprobs": True}])
def test_chat_completion_options_we_cannot_honour_are_refused_not_ignored(client, auth, extra):
    response = client.post(
        "/v1/chat/completions",
        headers=auth(),
        json={
            "model": "SmolLM2-135M-Instruct",
            "messages": [{"role": "user", "content": "hi"}],
            **extra,
        },
    )
    assert 400 <= response.status_code < 500, response.json
    assert response.json["error"]["message"]  # OpenAI's error shape
    assert response.json["error"]["message"].startswith(f"{next(iter(extra))}: ")


def test_a_form_of_thousands_of_fields_is_refused_as_such_not_as_too_large(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    data = {f"field{n}": "x" for n in range(3000)}
    data["files"] = [(io.BytesIO(b"12/03/2024, 09:15 - Marta: hi\n"), "chat.txt")]
    response = client.post(
        f"/api/v1/collections/{collection_id}/uploads",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )
    message = refused(response, 413, "form_too_large")
    assert "parts" in message and "MiB" not in message and "upload limit" not in message
    with app.extensions["chatlens.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
