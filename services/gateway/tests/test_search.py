"""Search and versions through the gateway: query operators, modes, filters, cursors, versions.

The back-end services are fake RPC servers on the real bus (a throw-away vhost), so each test
sees exactly what the gateway asks the embedding worker and the index.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from chatlens.gateway import cursor as cursors
from chatlens.gateway.api import http_models
from chatlens.gateway.api.renderers import highlighted
from chatlens.gateway.application.errors import AppError
from chatlens.gateway.application.queries import build_filters
from chatlens.gateway.db import Collection
from chatlens.gateway.http_errors import status_of
from chatlens.gateway.queryparse import parse_query
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus, PermanentError

MESSAGE = schemas.ChatMessage(
    message_id="m1",
    platform="whatsapp",
    chat="Team",
    sender="Marta",
    sent_at="2025-02-14T11:15:00Z",
    tz_assumption="UTC (assumed)",
    text="Booked the venue in Lisbon <for> the offsite",
    seq=0,
    source_file="a.txt",
    source_line=1,
)


# --- query understanding, no bus ----------------------------------------------------------------


def test_operators_in_the_query_become_filters_and_leave_the_text():
    parsed = parse_query(
        'from:Marta in:"Team Lisbon" after:2025-02-01 before:"14 Feb 2025" '
        '"the venue" invoi* http://x.io at 10:30'
    )
    assert parsed.senders == ["Marta"] and parsed.chats == ["Team Lisbon"]
    assert parsed.since == datetime(2025, 2, 1, tzinfo=UTC)
    assert parsed.until == datetime(2025, 2, 14, tzinfo=UTC)
    assert parsed.text == '"the venue" invoi* http://x.io at 10:30'
    assert parsed.semantic_text == "the venue invoi http://x.io at 10:30"


@pytest.mark.parametrize(
    "query, code",
    [
        ("after:someday soon", "invalid_date"),
        ("before:2025-13-45", "invalid_date"),
        ('from:"" lisbon', "invalid_query"),
    ],
)
def test_bad_operators_are_refused_with_a_code(query, code):
    with pytest.raises(AppError) as refused:
        parse_query(query)
    assert (status_of(refused.value), refused.value.code) == (422, code)


def test_request_filters_and_query_operators_combine():
    given = http_models.SearchFiltersIn(
        sender="Sam",
        chat=["ops"],
        kind="media",
        since="2025-01-01",
        until="2025-03-01T00:00:00+01:00",
    )
    filters = build_filters(given, parse_query("from:Marta after:2025-02-01 lisbon"))
    assert filters.sender == ["Sam", "Marta"] and filters.chat == ["ops"]
    assert filters.kind == ["media"]
    assert filters.since == datetime(2025, 2, 1, tzinfo=UTC)  # the narrower date wins
    assert filters.until == datetime(2025, 2, 28, 23, tzinfo=UTC)
    with pytest.raises(AppError) as refused:
        build_filters(
            http_models.SearchFiltersIn(since="2025-03-01"), parse_query("before:2025-01-01 x")
        )
    assert refused.value.code == "invalid_date_range"


def test_highlighting_escapes_html_and_marks_spans():
    assert highlighted("a <b> & c", [(0, 1), (8, 9)]) == (
        "<mark>a</mark> &lt;b&gt; &amp; <mark>c</mark>"
    )


def test_a_cursor_round_trips_and_refuses_tampering_and_other_queries():
    token = cursors.encode(cursors.Cursor(version=3, offset=20, fingerprint="abc"))
    assert cursors.decode(token, "abc") == cursors.Cursor(3, 20, "abc")
    for bad, expected in ((token, "other"), ("not-base64!", "abc"), (token[:-3], "abc")):
        with pytest.raises(AppError) as refused:
            cursors.decode(bad, expected)
        assert (status_of(refused.value), refused.value.code) == (400, "invalid_cursor")


# --- through the API, with fake services on the bus --------------------------------------------


def create_collection(client, headers, version=1):
    response = client.post("/api/v1/collections", json={"name": "Team"}, headers=headers)
    assert response.status_code == 201, response.json
    collection_id = response.json["id"]
    return collection_id


def set_version(app, collection_id, version):
    with app.extensions["chatlens.sessions"]() as session:
        session.get(Collection, collection_id).version = version
        session.commit()


class FakeServices:
    """Embedding and index RPC servers recording every request; ``index`` answers them."""

    def __init__(self, amqp_url, index):
        self.requests: list[schemas.Message] = []
        self.bus = Bus(amqp_url, "fake-services")

        def embed(request, delivery):
            self.requests.append(request)
            return schemas.QueryEmbedded(
                model="m", vectors=schemas.Vectors.from_array(np.ones((1, 4), dtype="float32"))
            )

        def answer(request, delivery):
            self.requests.append(request)
            return index(request)

        self.servers = [
            self.bus.rpc_server(topology.EMBEDDING_RPC.name, embed).start(),
            self.bus.rpc_server(topology.INDEX_RPC.name, answer).start(),
        ]
        deadline = time.monotonic() + 10
        while not all(s.ready for s in self.servers) and time.monotonic() < deadline:
            time.sleep(0.05)

    def of(self, cls):
        return [r for r in self.requests if isinstance(r, cls)]

    def stop(self):
        for server in self.servers:
            server.stop()
        self.bus.close()


@pytest.fixture
def services(amqp_url):
    started = []

    def start(index):
        fake = FakeServices(amqp_url, index)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


def paged_index(total=12):
    """An index of ``total`` copies of MESSAGE that pages like the real one, at version 4."""

    def index(request):
        if not isinstance(request, schemas.SearchRequested):
            raise PermanentError("unexpected")
        if request.version not in (None, 4):
            raise PermanentError("no such version", code="version_not_found")
        end = min(total, request.offset + request.k)
        hits = [
            schemas.SearchHit(
                message=MESSAGE.model_copy(update={"message_id": f"m{i}"}),
                score=1.0 / (i + 1),
                highlights=[(22, 28)],
                keyword_score=1.0,
            )
            for i in range(request.offset, end)
        ]
        return schemas.SearchAnswered(
            version=4, hits=hits, next_offset=end if end < total else None
        )

    return index


def test_hybrid_is_the_default_and_operators_reach_the_index_as_filters(
    app, client, auth, services
):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 4)
    fake = services(paged_index())
    response = client.post(
        f"/api/v1/collections/{collection_id}/search",
        headers=headers,
        json={
            "query": 'from:marta in:Team after:2025-02-01 "lisbon venue" booked*',
            "k": 3,
            "filters": {"platform": "whatsapp", "kind": ["text", "media"]},
        },
    )
    assert response.status_code == 200, response.json
    [embedded] = fake.of(schemas.EmbedQuery)
    assert embedded.texts == ["lisbon venue booked"]
    [searched] = fake.of(schemas.SearchRequested)
    assert searched.mode == "hybrid" and searched.query == '"lisbon venue" booked*'
    assert searched.filters == schemas.SearchFilters(
        platform=["whatsapp"],
        chat=["Team"],
        sender=["marta"],
        kind=["text", "media"],
        since=datetime(2025, 2, 1, tzinfo=UTC),
    )
    assert searched.org_id == "org-a" and searched.vector == [1.0] * 4
    first = response.json["results"][0]
    assert first["highlights"] == [[22, 28]]
    assert first["highlighted"] == "Booked the venue in Li<mark>sbon &lt;</mark>for&gt; the offsite"
    assert first["keyword_score"] == 1.0 and first["semantic_score"] is None
    assert response.json["interpreted"]["filters"]["sender"] == ["marta"]
    timings = dict(step.split(";dur=") for step in response.headers["Server-Timing"].split(", "))
    assert list(timings) == ["db", "embedding.query", "index.search", "app"]
    assert float(timings["app"]) >= sum(
        float(timings[s]) for s in ("db", "embedding.query", "index.search")
    )


def test_keyword_mode_does_not_embed_the_query(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 4)
    fake = services(paged_index())
    response = client.post(
        f"/api/v1/collections/{collection_id}/search",
        headers=headers,
        json={"query": "invoice", "mode": "keyword"},
    )
    assert response.status_code == 200, response.json
    assert fake.of(schemas.EmbedQuery) == []
    [searched] = fake.of(schemas.SearchRequested)
    assert searched.mode == "keyword" and searched.vector is None


def test_cursors_page_through_one_version_to_the_end(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 4)
    fake = services(paged_index(total=12))
    url = f"/api/v1/collections/{collection_id}/search"
    body = {"query": "lisbon", "k": 5}
    seen, cursor = [], None
    while True:
        response = client.post(
            url, headers=headers, json={**body, "cursor": cursor} if cursor else body
        )
        assert response.status_code == 200, response.json
        seen += [r["message_id"] for r in response.json["results"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"m{i}" for i in range(12)]
    searched = fake.of(schemas.SearchRequested)
    assert [(s.offset, s.version) for s in searched] == [(0, None), (5, 4), (10, 4)]
    # A cursor is bound to its search: another query, or another version, is refused.
    first = client.post(url, headers=headers, json=body).json["next_cursor"]
    other = client.post(url, headers=headers, json={"query": "porto", "k": 5, "cursor": first})
    assert other.status_code == 400 and other.json["error"]["code"] == "invalid_cursor"
    pinned = client.post(url, headers=headers, json={**body, "cursor": first, "version": 2})
    assert pinned.status_code == 400 and pinned.json["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"query": "from:marta"}, 422, "empty_query"),
        ({"query": "lisbon before:notadate"}, 422, "invalid_date"),
        ({"query": "lisbon", "filters": {"since": "yesterday-ish"}}, 422, "invalid_date"),
        ({"query": "lisbon", "filters": {"kind": "hologram"}}, 422, "validation_error"),
        ({"query": "lisbon", "filters": {"sender": ["x"] * 51}}, 422, "too_many_filters"),
        ({"query": "lisbon", "version": 9}, 404, "version_not_found"),
        ({"query": "lisbon", "cursor": "garbage"}, 400, "invalid_cursor"),
        ({"query": "lisbon", "k": 1000}, 422, "validation_error"),
        ({"query": "   "}, 422, "validation_error"),
    ],
)
def test_bad_searches_get_a_clear_4xx_with_a_code(app, client, auth, services, body, status, code):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 4)
    services(paged_index())
    response = client.post(
        f"/api/v1/collections/{collection_id}/search", headers=headers, json=body
    )
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code


# --- versions -----------------------------------------------------------------------------------


def versions_index(calls):
    def index(request):
        calls.append(request)
        if isinstance(request, schemas.VersionsListRequested):
            return schemas.VersionsListed(
                versions=[
                    schemas.VersionInfo(
                        version=v,
                        message=f"v{v}: something",
                        committed_at="2025-02-14T11:15:00Z",
                        segments=v,
                        messages=10 * v,
                        added=10 if v else 0,
                        removed=0,
                    )
                    for v in (0, 1, 2)
                ]
            )
        if isinstance(request, schemas.VersionsCompareRequested):
            return schemas.VersionsCompared(
                base=request.base,
                other=request.other,
                added=2,
                removed=1,
                added_ids=["a", "b"],
                removed_ids=["c"],
            )
        if isinstance(request, schemas.VersionRestoreRequested):
            if request.version > 2:
                raise PermanentError("no such version", code="version_not_found")
            return schemas.VersionRestored(version=3, restored=request.version, added=0, removed=10)
        if isinstance(request, schemas.TagsListRequested):
            return schemas.TagsListed(tags=[])
        raise PermanentError("unexpected")

    return index


def test_versions_are_listed_compared_and_restored_through_the_index(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 2)
    calls = []
    services(versions_index(calls))
    base = f"/api/v1/collections/{collection_id}/versions"
    listed = client.get(base, headers=headers)
    assert listed.status_code == 200, listed.json
    assert [(v["version"], v["messages"]) for v in listed.json["versions"]] == [
        (0, 0),
        (1, 10),
        (2, 20),
    ]
    compared = client.get(f"{base}/compare?base=1&other=2", headers=headers)
    assert compared.status_code == 200, compared.json
    assert compared.json == {
        "base": 1,
        "other": 2,
        "added": 2,
        "removed": 1,
        "added_ids": ["a", "b"],
        "removed_ids": ["c"],
    }
    restored = client.post(f"{base}/1/restore", headers=headers)
    assert restored.status_code == 200, restored.json
    assert restored.json == {"version": 3, "restored": 1, "added": 0, "removed": 10}
    collection = client.get(f"/api/v1/collections/{collection_id}", headers=headers).json
    assert collection["version"] == 3
    assert all(call.org_id == "org-a" for call in calls)


def test_version_requests_are_refused_clearly(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    base = f"/api/v1/collections/{collection_id}/versions"
    # Nothing ingested yet: an empty history, and no version to restore.
    assert client.get(base, headers=headers).json == {"versions": []}
    assert client.post(f"{base}/1/restore", headers=headers).status_code == 404
    set_version(app, collection_id, 2)
    services(versions_index([]))
    cases = [
        (client.post(f"{base}/7/restore", headers=headers), 404, "version_not_found"),
        (client.post(f"{base}/v1/restore", headers=headers), 404, "version_not_found"),
        (client.post(f"{base}/1/restore", headers=auth(role="viewer")), 403, "forbidden"),
        (client.get(f"{base}/compare?base=1", headers=headers), 422, "validation_error"),
        # A version may be named by a tag: a name that is none is not found.
        (client.get(f"{base}/compare?base=1&other=x", headers=headers), 404, "tag_not_found"),
        (client.get(f"{base}/compare?base=1&other=-1", headers=headers), 422, "validation_error"),
        (client.get(base, headers=auth(org="org-b")), 404, "collection_not_found"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
