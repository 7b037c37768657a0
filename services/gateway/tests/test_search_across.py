"""Searching several collections at once, across versions, with tags; restores announced.

The index is faked by RPC servers on the real bus (a throw-away vhost): on ``index.rpc`` for one
replica, on ``index.rpc.r0`` and ``index.rpc.r1`` for two.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from chatlens.gateway.app import create_app
from chatlens.gateway.application.search import by_replica
from chatlens.gateway.db import Collection
from chatlens.gateway.jobs import apply_event
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus, PermanentError

MESSAGE = schemas.ChatMessage(
    message_id="m",
    platform="slack",
    chat="ops",
    sender="Marta",
    sent_at="2025-02-14T11:15:00Z",
    tz_assumption="UTC",
    text="the invoice for Lisbon",
    seq=0,
    source_file="a.json",
)


def create_collection(client, headers, version=2):
    response = client.post("/api/v1/collections", json={"name": "c"}, headers=headers)
    assert response.status_code == 201, response.json
    collection_id = response.json["id"]
    with client.application.extensions["chatlens.sessions"]() as session:
        session.get(Collection, collection_id).version = version
        session.commit()
    return collection_id


class FakeIndex:
    """A fake index: each collection holds ``per_collection`` hits scored by a per-collection
    base; keeps tags in memory; records every request. Versions 1..latest exist."""

    def __init__(self, latest=2, per_collection=4):
        self.requests: list[schemas.Message] = []
        self.latest, self.per_collection = latest, per_collection
        self.tags: dict[str, dict[str, int]] = {}
        self.bases: dict[str, float] = {}

    def __call__(self, request, delivery=None):
        self.requests.append(request)
        if isinstance(request, schemas.EmbedQuery):
            return schemas.QueryEmbedded(
                model="m", vectors=schemas.Vectors.from_array(np.ones((1, 4), dtype="float32"))
            )
        tags = self.tags.setdefault(request.collection_id, {})
        if isinstance(request, schemas.TagsListRequested):
            return self._tags(tags)
        if isinstance(request, schemas.TagCreateRequested):
            if request.name in tags:
                raise PermanentError("exists", code="tag_exists")
            if request.name.isdigit():
                raise PermanentError("reads as a version", code="invalid_tag")
            tags[request.name] = request.version if request.version is not None else self.latest
            return self._tags(tags)
        if isinstance(request, schemas.TagDeleteRequested):
            if tags.pop(request.name, None) is None:
                raise PermanentError("no tag", code="tag_not_found")
            return self._tags(tags)
        assert isinstance(request, schemas.SearchRequested)
        return self._search(request)

    @staticmethod
    def _tags(tags):
        return schemas.TagsListed(
            tags=[schemas.TagInfo(name=n, version=v) for n, v in sorted(tags.items())]
        )

    def _search(self, request):
        if request.versions:  # the index fuses the versions' lists (index tests check how)
            by_version = [
                schemas.VersionHits(
                    version=v,
                    hits=self._search(
                        request.model_copy(update={"versions": [], "version": v})
                    ).hits,
                )
                for v in request.versions
            ]
            merged = [
                hit.model_copy(update={"score": 1 / (60 + rank), "found_in": [v.version]})
                for rank, hits in enumerate(
                    zip(*[v.hits for v in by_version], strict=True), start=1
                )
                for hit, v in zip(hits, by_version, strict=True)
            ]
            return schemas.SearchAnswered(
                version=max(request.versions), hits=merged, by_version=by_version
            )
        ids = [request.collection_id, *request.collection_ids]
        pins = {**request.collection_versions, request.collection_id: request.version}
        versions = {}
        for cid in ids:
            version = pins.get(cid) or self.latest
            if not 1 <= version <= self.latest:
                raise PermanentError("no such version", code="version_not_found")
            versions[cid] = version
        hits = []
        for cid in ids:
            base = self.bases.get(cid, 1.0)
            for n in range(self.per_collection):
                message = MESSAGE.model_copy(update={"message_id": f"{cid}-v{versions[cid]}-{n}"})
                hits.append(
                    schemas.SearchHit(message=message, score=base - n / 10, collection_id=cid)
                )
        hits.sort(key=lambda hit: -hit.score)
        end = request.offset + request.k
        return schemas.SearchAnswered(
            version=versions[request.collection_id],
            hits=hits[request.offset : end],
            versions=versions,
            next_offset=end if end < len(hits) else None,
        )


def serve(amqp_url, queues, handler):
    """RPC servers for ``queues`` (the embedding queue too), stopped by the returned function."""
    bus = Bus(amqp_url, "fake-services")
    servers = [bus.rpc_server(q, handler).start() for q in (topology.EMBEDDING_RPC.name, *queues)]
    deadline = time.monotonic() + 10
    while not all(s.ready for s in servers) and time.monotonic() < deadline:
        time.sleep(0.05)

    def stop():
        for server in servers:
            server.stop()
        bus.close()

    return stop


@pytest.fixture
def fake_index(amqp_url):
    stops = []

    def start(queues=(topology.INDEX_RPC.name,), **kwargs):
        index = FakeIndex(**kwargs)
        stops.append(serve(amqp_url, queues, index))
        return index

    yield start
    for stop in stops:
        stop()


def searches(index):
    return [r for r in index.requests if isinstance(r, schemas.SearchRequested)]


# --- several collections ------------------------------------------------------------------------


def test_several_collections_are_searched_together_and_paged_with_one_cursor(
    client, auth, fake_index
):
    headers = auth()
    a, b = create_collection(client, headers), create_collection(client, headers)
    index = fake_index()
    index.bases = {a: 1.0, b: 0.95}
    body = {"collections": [a, b, a], "query": "invoice from:marta", "k": 5}
    first = client.post("/api/v1/search", headers=headers, json=body)
    assert first.status_code == 200, first.json
    assert first.json["collections"] == {a: 2, b: 2} and first.json["version"] is None
    assert [r["collection_id"] for r in first.json["results"]] == [a, b, a, b, a]
    [asked] = searches(index)
    assert (asked.collection_id, asked.collection_ids, asked.org_id) == (a, [b], "org-a")
    assert asked.filters.sender == ["marta"] and asked.mode == "hybrid"
    # A new version of b arrives; the next page still reads the versions of the first.
    index.latest = 3
    second = client.post(
        "/api/v1/search", headers=headers, json={**body, "cursor": first.json["next_cursor"]}
    )
    assert second.status_code == 200, second.json
    last = searches(index)[-1]
    assert (last.offset, last.version, last.collection_versions) == (5, 2, {b: 2})
    ids = [r["message_id"] for r in first.json["results"] + second.json["results"]]
    assert len(ids) == len(set(ids)) == 8 and all("-v2-" in i for i in ids)
    assert second.json["next_cursor"] is None
    # The cursor belongs to this set of collections.
    other = client.post(
        "/api/v1/search",
        headers=headers,
        json={**body, "collections": [a], "cursor": first.json["next_cursor"]},
    )
    assert (other.status_code, other.json["error"]["code"]) == (400, "invalid_cursor")


def test_another_orgs_collection_is_not_found_and_nothing_is_searched(client, auth, fake_index):
    mine = create_collection(client, auth())
    theirs = create_collection(client, auth(org="org-b", user="user-b"))
    index = fake_index()
    for ids in ([mine, theirs], [mine, "no-such-collection"]):
        response = client.post(
            "/api/v1/search", headers=auth(), json={"collections": ids, "query": "invoice"}
        )
        assert response.status_code == 404
        assert response.json["error"] == {
            "code": "collection_not_found",
            "message": "no such collection",
        }
    assert index.requests == []


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"collections": [], "query": "x"}, 422, "validation_error"),
        ({"collections": [f"c{n}" for n in range(21)], "query": "x"}, 422, "validation_error"),
        ({"collections": "abc", "query": "x"}, 422, "validation_error"),
        ({"collections": ["COLL"], "query": "from:marta"}, 422, "empty_query"),
        ({"collections": ["COLL"], "query": "x", "cursor": "garbage"}, 400, "invalid_cursor"),
        ({"collections": ["COLL"], "query": "x", "k": 0}, 422, "validation_error"),
        ({"collections": ["COLL"], "query": "x", "version": 1}, 422, "validation_error"),
    ],
)
def test_bad_multi_collection_searches_get_a_clear_4xx(
    client, auth, fake_index, body, status, code
):
    headers = auth()
    collection_id = create_collection(client, headers)
    fake_index()
    body = (
        {**body, "collections": [collection_id if c == "COLL" else c for c in body["collections"]]}
        if isinstance(body["collections"], list)
        else body
    )
    response = client.post("/api/v1/search", headers=headers, json=body)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_collections_on_two_replicas_are_merged_by_score(settings, auth, fake_index):
    app = create_app(settings.model_copy(update={"index_replicas": 2}))
    try:
        client = app.test_client()
        headers = auth()
        made = [create_collection(client, headers) for _ in range(12)]
        groups = by_replica(made, 2)
        assert len(groups) == 2  # twelve random ids on both replicas (fails 1 in 2**11)
        a, b = groups[0][0], groups[1][0]
        index = fake_index(queues=("index.rpc.r0", "index.rpc.r1"), per_collection=3)
        index.bases = {a: 1.0, b: 0.95}
        body = {"collections": [a, b], "query": "invoice", "mode": "keyword", "k": 4}
        first = client.post("/api/v1/search", headers=headers, json=body)
        assert first.status_code == 200, first.json
        assert [r["score"] for r in first.json["results"]] == [1.0, 0.95, 0.9, 0.85]
        assert first.json["collections"] == {a: 2, b: 2}
        asked = searches(index)
        assert sorted((s.collection_id, s.collection_ids) for s in asked) == sorted(
            [(a, []), (b, [])]
        )
        second = client.post(
            "/api/v1/search", headers=headers, json={**body, "cursor": first.json["next_cursor"]}
        )
        assert [r["score"] for r in second.json["results"]] == [
            pytest.approx(0.8),
            pytest.approx(0.75),
        ]
        assert second.json["next_cursor"] is None
    finally:
        app.extensions["chatlens.bus"].close()
        app.extensions["chatlens.engine"].dispose()


# --- tags and versions -------------------------------------------------------------------------


def test_tags_are_created_listed_used_and_deleted(client, auth, fake_index):
    headers = auth()
    collection_id = create_collection(client, headers)
    index = fake_index()
    base = f"/api/v1/collections/{collection_id}/tags"
    created = client.post(base, headers=headers, json={"name": "before-march", "version": 1})
    assert (created.status_code, created.json) == (201, {"name": "before-march", "version": 1})
    assert client.get(base, headers=headers).json == {
        "tags": [{"name": "before-march", "version": 1}]
    }
    searched = client.post(
        f"/api/v1/collections/{collection_id}/search",
        headers=headers,
        json={"query": "invoice", "version": "before-march"},
    )
    assert searched.status_code == 200, searched.json
    assert searches(index)[-1].version == 1 and searched.json["version"] == 1
    lookups = [r for r in index.requests if isinstance(r, schemas.TagsListRequested)]
    assert lookups and all(r.org_id == "org-a" for r in lookups)
    assert client.delete(f"{base}/before-march", headers=headers).status_code == 204
    assert client.get(base, headers=headers).json == {"tags": []}


def test_bad_tag_requests_are_refused_clearly(client, auth, fake_index):
    headers = auth()
    collection_id = create_collection(client, headers)
    empty = create_collection(client, headers, version=0)
    fake_index()
    base = f"/api/v1/collections/{collection_id}/tags"
    assert client.post(base, headers=headers, json={"name": "q1"}).status_code == 201
    search = f"/api/v1/collections/{collection_id}/search"
    cases = [
        (client.post(base, headers=headers, json={"name": "q1"}), 409, "tag_exists"),
        (client.post(base, headers=headers, json={"name": "12"}), 422, "invalid_tag"),
        (client.post(base, headers=headers, json={"name": "a/b"}), 422, "validation_error"),
        (client.post(base, headers=headers, json={"name": "x" * 64}), 422, "validation_error"),
        (
            client.post(base, headers=headers, json={"name": "q2", "version": -1}),
            422,
            "validation_error",
        ),
        (client.post(base, headers=auth(role="viewer"), json={"name": "q3"}), 403, "forbidden"),
        (client.delete(f"{base}/nope", headers=headers), 404, "tag_not_found"),
        (client.get(base, headers=auth(org="org-b")), 404, "collection_not_found"),
        (
            client.post(f"/api/v1/collections/{empty}/tags", headers=headers, json={"name": "a"}),
            404,
            "version_not_found",
        ),
        (
            client.post(search, headers=headers, json={"query": "x", "version": "nope"}),
            404,
            "tag_not_found",
        ),
        (
            client.post(search, headers=headers, json={"query": "x", "version": "v1"}),
            404,
            "version_not_found",
        ),
        (
            client.post(search, headers=headers, json={"query": "x", "version": 9}),
            404,
            "version_not_found",
        ),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_a_search_across_versions_answers_per_version_and_merged(client, auth, fake_index):
    headers = auth()
    collection_id = create_collection(client, headers, version=3)
    index = fake_index(latest=3, per_collection=2)
    client.post(
        f"/api/v1/collections/{collection_id}/tags",
        headers=headers,
        json={"name": "first", "version": 1},
    )
    response = client.post(
        f"/api/v1/collections/{collection_id}/search",
        headers=headers,
        json={"query": "invoice", "versions": ["first", 3, "3"], "k": 2},
    )
    assert response.status_code == 200, response.json
    [asked] = searches(index)  # one RPC: the index searches each version once and fuses them
    assert asked.versions == [1, 3] and asked.version is None
    assert len([r for r in index.requests if isinstance(r, schemas.EmbedQuery)]) == 1
    by_version = response.json["by_version"]
    assert [(v["version"], [r["message_id"] for r in v["results"]]) for v in by_version] == [
        (1, [f"{collection_id}-v1-0", f"{collection_id}-v1-1"]),
        (3, [f"{collection_id}-v3-0", f"{collection_id}-v3-1"]),
    ]
    merged = response.json["results"]
    assert [(r["message_id"][-4:], r["found_in"], r["score"]) for r in merged] == [
        ("v1-0", [1], 1 / 61),
        ("v3-0", [3], 1 / 61),
        ("v1-1", [1], 1 / 62),
        ("v3-1", [3], 1 / 62),
    ]
    assert response.json["version"] == 3 and response.json["interpreted"]["versions"] == [1, 3]


@pytest.mark.parametrize(
    "extra, status, code",
    [
        ({"versions": []}, 422, "validation_error"),
        ({"versions": list(range(1, 12))}, 422, "validation_error"),
        ({"versions": [1, 7]}, 404, "version_not_found"),
        ({"versions": [1, "nope"]}, 404, "tag_not_found"),
        ({"versions": [1, -2]}, 422, "validation_error"),
        ({"versions": [1, 2], "version": 1}, 422, "validation_error"),
        ({"versions": [1, 2], "cursor": "abc"}, 400, "invalid_cursor"),
    ],
)
def test_bad_searches_across_versions_get_a_clear_4xx(
    client, auth, fake_index, extra, status, code
):
    headers = auth()
    collection_id = create_collection(client, headers)
    fake_index()
    response = client.post(
        f"/api/v1/collections/{collection_id}/search",
        headers=headers,
        json={"query": "invoice", **extra},
    )
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_a_restore_announced_on_the_bus_moves_the_collections_version(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers, version=4)
    sessions = app.extensions["chatlens.sessions"]
    for org_id, version, expected in (("org-b", 9, 4), ("org-a", 5, 5), ("org-a", 3, 5)):
        with sessions() as session:
            apply_event(
                session,
                schemas.IndexRestored(
                    org_id=org_id, collection_id=collection_id, version=version, restored=1
                ),
            )
            session.commit()
        with sessions() as session:
            assert session.get(Collection, collection_id).version == expected


def test_the_new_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"post"} <= set(paths["/api/v1/search"])
    assert {"get", "post"} <= set(paths["/api/v1/collections/{collection_id}/tags"])
    assert "delete" in paths["/api/v1/collections/{collection_id}/tags/{name}"]
