"""Deleting messages through the gateway, and what it removes when jobs and collections end.

The index is a fake RPC server on the real bus (a throw-away vhost) that records each request;
the index's own behaviour is tested in services/index/tests/test_deletion.py and test_purge.py.
"""

from __future__ import annotations

import time

import pytest

from chatlens.gateway.db import Collection, OutboxMessage
from chatlens.gateway.events import job_event_handler
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus, Delivery, PermanentError

from .test_api import WHATSAPP, create_collection, stored_files, upload

DELIVERY = Delivery(queue="gateway.jobs", redelivered=False, delivery_count=0, correlation_id=None)


class FakeIndex:
    """Answers index.delete like the index would, for one known chat, sender and upload."""

    def __init__(self, amqp_url):
        self.requests: list[schemas.MessagesDeleteRequested] = []
        self.bus = Bus(amqp_url, "fake-index")
        self.server = self.bus.rpc_server(topology.INDEX_RPC.name, self.answer).start()
        deadline = time.monotonic() + 10
        while not self.server.ready and time.monotonic() < deadline:
            time.sleep(0.05)

    def answer(self, request, delivery):
        self.requests.append(request)
        if not isinstance(request, schemas.MessagesDeleteRequested):
            raise PermanentError("unexpected")
        for kind, value in (
            ("chat", request.chat),
            ("sender", request.sender),
            ("upload", request.job_id),
        ):
            if value is not None and value not in ("Team / Ops", "Sam", self.job_id):
                raise PermanentError(f"no such {kind}", code=f"{kind}_not_found")
        return schemas.MessagesDeleted(
            version=3,
            removed=2,
            purged=2 if request.purge else 0,
            rewritten=2 if request.purge else 0,
        )

    job_id = ""

    def stop(self):
        self.server.stop()
        self.bus.close()


@pytest.fixture
def index(amqp_url):
    fake = FakeIndex(amqp_url)
    yield fake
    fake.stop()


@pytest.fixture
def indexed(app, client, auth):
    """A collection at version 2 with one succeeded upload; (headers, collection id, job id)."""
    headers = auth()
    collection_id = create_collection(client, headers)
    job_id = upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())]).json["jobs"][0][
        "id"
    ]
    apply = job_event_handler(
        app.extensions["chatlens.sessions"], app.config["CHATLENS_UPLOAD_DIR"]
    )
    apply(
        schemas.IndexUpdated(
            job_id=job_id, collection_id=collection_id, version=2, stats={"messages": 2}
        ),
        DELIVERY,
    )
    return headers, collection_id, job_id


def test_a_chat_an_upload_and_a_sender_are_deleted_through_the_index(
    indexed, client, index, fake_auth
):
    headers, collection_id, job_id = indexed
    index.job_id = job_id
    base = f"/api/v1/collections/{collection_id}"
    # A chat name with a slash and a space, URL-encoded.
    chat = client.delete(f"{base}/chats/Team%20%2F%20Ops", headers=headers)
    assert chat.status_code == 200, chat.json
    assert chat.json == {"version": 3, "removed": 2, "purged": 0, "rewritten": 0}
    assert client.delete(f"{base}/uploads/{job_id}", headers=headers).status_code == 200
    sender = client.post(f"{base}/deletions", json={"sender": "Sam"}, headers=headers)
    assert sender.status_code == 200, sender.json
    assert [(r.chat, r.job_id, r.sender, r.purge, r.org_id) for r in index.requests] == [
        ("Team / Ops", None, None, False, "org-a"),
        (None, job_id, None, False, "org-a"),
        (None, None, "Sam", False, "org-a"),
    ]
    assert client.get(base, headers=headers).json["version"] == 3
    audited = [
        (e["event"], e["target"], e["details"]["selector"], e["details"]["removed"])
        for e in fake_auth.audit
    ]
    assert audited == [
        ("messages.deleted", collection_id, "chat", 2),
        ("messages.deleted", collection_id, "upload", 2),
        ("messages.deleted", collection_id, "sender", 2),
    ]


def test_a_purge_needs_an_admin(indexed, client, auth, index, fake_auth):
    headers, collection_id, _ = indexed
    base = f"/api/v1/collections/{collection_id}"
    analyst = client.post(
        f"{base}/deletions", json={"sender": "Sam", "purge": True}, headers=auth(role="analyst")
    )
    assert analyst.status_code == 403 and analyst.json["error"]["code"] == "forbidden"
    assert index.requests == []
    purged = client.delete(f"{base}/chats/Team%20%2F%20Ops?purge=true", headers=auth(role="admin"))
    assert purged.status_code == 200, purged.json
    assert purged.json == {"version": 3, "removed": 2, "purged": 2, "rewritten": 2}
    assert index.requests[0].purge is True
    assert fake_auth.audit[-1]["event"] == "messages.purged"


@pytest.mark.parametrize(
    "method, path, body, status, code",
    [
        ("post", "/deletions", {}, 422, "validation_error"),
        ("post", "/deletions", {"chat": "a", "sender": "b"}, 422, "validation_error"),
        ("post", "/deletions", {"chat": ""}, 422, "validation_error"),
        ("post", "/deletions", {"chat": "x" * 501}, 422, "validation_error"),
        ("post", "/deletions", {"chat": "Team / Ops", "purge": "maybe"}, 422, "validation_error"),
        ("post", "/deletions", {"chat": "Team / Ops", "colour": "red"}, 422, "validation_error"),
        ("post", "/deletions", {"chat": "Nowhere"}, 404, "chat_not_found"),
        ("post", "/deletions", {"sender": "Nobody"}, 404, "sender_not_found"),
        ("post", "/deletions", {"upload": "0" * 32}, 404, "upload_not_found"),
        ("delete", "/chats/Nowhere", None, 404, "chat_not_found"),
        ("delete", "/chats/Team?purge=perhaps", None, 422, "validation_error"),
        ("delete", "/chats/Team?colour=red", None, 422, "validation_error"),
        ("delete", "/uploads/nope", None, 404, "upload_not_found"),
    ],
)
def test_bad_deletions_get_a_clear_4xx_and_change_nothing(
    indexed, client, index, method, path, body, status, code
):
    headers, collection_id, _ = indexed
    url = f"/api/v1/collections/{collection_id}{path}"
    response = (
        getattr(client, method)(url, json=body, headers=headers)
        if body is not None
        else getattr(client, method)(url, headers=headers)
    )
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert client.get(f"/api/v1/collections/{collection_id}", headers=headers).json["version"] == 2


def test_other_orgs_viewers_and_unfinished_uploads_are_refused(app, indexed, client, auth, index):
    headers, collection_id, job_id = indexed
    index.job_id = job_id
    base = f"/api/v1/collections/{collection_id}"
    other_org = auth(org="org-b")
    assert (
        client.delete(f"{base}/chats/Team", headers=other_org).json["error"]["code"]
        == "collection_not_found"
    )
    assert (
        client.post(
            f"{base}/deletions", json={"sender": "Sam"}, headers=auth(role="viewer")
        ).status_code
        == 403
    )
    # Another org's upload id in this org's collection is simply not found.
    theirs = create_collection(client, other_org)
    their_job = upload(client, other_org, theirs, [("a.txt", WHATSAPP.encode())]).json["jobs"][0][
        "id"
    ]
    assert client.delete(f"{base}/uploads/{their_job}", headers=headers).status_code == 404
    running = upload(client, headers, collection_id, [("b.txt", WHATSAPP.encode())]).json["jobs"][
        0
    ]["id"]
    refused = client.delete(f"{base}/uploads/{running}", headers=headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "upload_not_indexed"
    assert index.requests == []


def test_a_deletion_without_an_index_is_a_503(indexed, app, client, monkeypatch):
    headers, collection_id, _ = indexed
    monkeypatch.setattr(app.config["CHATLENS_SETTINGS"], "deletion_timeout_s", 2.0)
    response = client.delete(f"/api/v1/collections/{collection_id}/chats/Team", headers=headers)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "index_unavailable"


def test_a_finished_jobs_upload_is_removed_and_a_failed_one_is_abandoned(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    jobs = upload(
        client, headers, collection_id, [("a.txt", WHATSAPP.encode()), ("b.txt", WHATSAPP.encode())]
    ).json["jobs"]
    apply = job_event_handler(
        app.extensions["chatlens.sessions"], app.config["CHATLENS_UPLOAD_DIR"]
    )
    apply(schemas.JobProgressed(job_id=jobs[0]["id"], stage="embedding", done=1, total=2), DELIVERY)
    assert len(stored_files(app)) == 2  # still being processed: kept
    apply(
        schemas.IndexUpdated(
            job_id=jobs[0]["id"], collection_id=collection_id, version=1, stats={}
        ),
        DELIVERY,
    )
    apply(
        schemas.JobFailed(job_id=jobs[1]["id"], code="archive_too_large", reason="bomb"), DELIVERY
    )
    apply(schemas.JobFailed(job_id=jobs[1]["id"], code="x", reason="again"), DELIVERY)
    assert stored_files(app) == []
    with app.extensions["chatlens.sessions"]() as session:
        abandoned = [
            m
            for m in session.query(OutboxMessage).all()
            if m.message_type == schemas.JobAbandoned.type
        ]
    assert len(abandoned) == 1  # the redelivered failure adds nothing
    message = schemas.decode(abandoned[0].message_type, abandoned[0].body.encode())
    assert (message.job_id, message.collection_id, message.org_id) == (
        jobs[1]["id"],
        collection_id,
        "org-a",
    )


def test_deleting_a_collection_removes_its_uploads_and_tells_the_index(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    keep = create_collection(client, headers, name="Other")
    upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())])
    upload(client, headers, keep, [("b.txt", WHATSAPP.encode())])
    assert client.delete(f"/api/v1/collections/{collection_id}", headers=headers).status_code == 204
    assert [p.split("/")[-1] for p in stored_files(app)] == ["b.txt"]
    # The index hears of it through the outbox, committed with the deletion (the index's own
    # tests take it from there, over RabbitMQ; tests/e2e/test_deletion.py end to end).
    with app.extensions["chatlens.sessions"]() as session:
        assert session.get(Collection, collection_id) is None
        rows = [
            m
            for m in session.query(OutboxMessage).all()
            if m.message_type == schemas.CollectionDeleted.type
        ]
    assert [schemas.decode(r.message_type, r.body.encode()).collection_id for r in rows] == [
        collection_id
    ]


def test_openapi_lists_the_deletion_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "delete" in paths["/api/v1/collections/{collection_id}/chats/{chat}"]
    assert "delete" in paths["/api/v1/collections/{collection_id}/uploads/{job_id}"]
    assert "post" in paths["/api/v1/collections/{collection_id}/deletions"]
