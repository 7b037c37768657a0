"""The gateway's API against real RabbitMQ and both databases (SQLite and MariaDB)."""

import io
import json
import threading
import time

import pytest
import requests

from chatlens.gateway import jobs
from chatlens.gateway.db import Job, OutboxMessage
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus

from .conftest import WHATSAPP


def create_collection(client, headers, name="Team"):
    response = client.post("/api/v1/collections", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def upload(client, headers, collection_id, files, **form):
    data = {"files": [(io.BytesIO(content), name) for name, content in files], **form}
    return client.post(
        f"/api/v1/collections/{collection_id}/uploads",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def stored_files(app):
    root = app.config["CHATLENS_UPLOAD_DIR"]
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_collections_belong_to_one_org_and_other_orgs_get_404(client, auth):
    mine = create_collection(client, auth(org="org-a"))
    assert client.get(f"/api/v1/collections/{mine}", headers=auth(org="org-a")).status_code == 200
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/v1/collections/{mine}", headers=auth(org="org-b"))
        assert response.status_code == 404
        assert response.json["error"]["code"] == "collection_not_found"
    assert client.get("/api/v1/collections", headers=auth(org="org-b")).json["collections"] == []
    deleted = client.delete(f"/api/v1/collections/{mine}", headers=auth(org="org-a"))
    assert deleted.status_code == 204


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"exp": int(time.time()) - 10}, "token_expired"),
        ({"aud": "someone-else"}, "invalid_token"),
        ({"iss": "evil"}, "invalid_token"),
        ({"typ": "refresh"}, "invalid_token"),
    ],
)
def test_bad_tokens_are_refused(client, make_token, overrides, code):
    headers = {"Authorization": f"Bearer {make_token(**overrides)}"}
    response = client.get("/api/v1/collections", headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == code
    # RFC 6750: what tells the web app that a refreshed token may succeed (it retries only then).
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_signed_by_another_key_or_unsigned_is_refused(client, make_token):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        jwt.decode(make_token(), options={"verify_signature": False}),
        other,
        algorithm="RS256",
        headers={"kid": "test-key"},
    )
    unsigned = jwt.encode(
        jwt.decode(make_token(), options={"verify_signature": False}),
        None,
        algorithm="none",
        headers={"kid": "test-key"},
    )
    for token in (forged, unsigned, "not-a-jwt"):
        response = client.get("/api/v1/collections", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert client.get("/api/v1/collections").status_code == 401


def test_an_upload_of_several_files_records_jobs_and_publishes_through_the_outbox(
    app, client, auth, amqp_url
):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(
        client,
        headers,
        collection_id,
        [("a.txt", WHATSAPP.encode()), ("b.txt", WHATSAPP.encode() * 2)],
        timezone="Europe/Lisbon",
    )
    assert response.status_code == 202, response.json
    accepted = response.json["jobs"]
    assert [j["filename"] for j in accepted] == ["a.txt", "b.txt"]
    assert all(j["status"] == "queued" for j in accepted)
    assert len(stored_files(app)) == 2
    sessions = app.extensions["chatlens.sessions"]
    with sessions() as session:
        pending = session.query(OutboxMessage).filter(OutboxMessage.published_at.is_(None))
        assert pending.count() == 2
    assert app.extensions["chatlens.outbox"].publish_pending() == 2
    assert app.extensions["chatlens.outbox"].publish_pending() == 0
    received = []
    consumer = (
        Bus(amqp_url, "test")
        .consumer(topology.INGEST_QUEUE.name, lambda message, delivery: received.append(message))
        .start()
    )
    deadline = time.monotonic() + 20
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    consumer.stop()
    assert sorted(m.job_id for m in received) == sorted(j["id"] for j in accepted)
    assert received[0].timezone == "Europe/Lisbon" and received[0].org_id == "org-a"
    job = client.get(f"/api/v1/jobs/{accepted[0]['id']}", headers=headers).json
    assert job["status"] == "queued" and job["progress"] == {"stage": None, "done": 0, "total": 0}
    foreign = client.get(f"/api/v1/jobs/{accepted[0]['id']}", headers=auth(org="org-b"))
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    "files, form, status, code",
    [
        ([("notes.pdf", b"%PDF-1.4 ...")], {}, 415, "unsupported_type"),
        ([("chat.txt", b"\x00\x01binary")], {}, 415, "not_text"),
        ([("chat.txt", b"\xff\xfe\xfa not utf-8 at all " * 10)], {}, 415, "not_text"),
        (
            [("chat.txt", b"Dear diary, today nothing happened.\n" * 50)],
            {},
            422,
            "not_a_chat_export",
        ),
        ([("chat.txt", b"")], {}, 400, "empty_file"),
        ([("a.txt", WHATSAPP.encode()), ("b.pdf", b"%PDF")], {}, 415, "unsupported_type"),
        ([("a.txt", WHATSAPP.encode())], {"timezone": "Mars/Olympus"}, 422, "unknown_timezone"),
        ([("a.txt", WHATSAPP.encode())], {"format": "telepathy"}, 422, "unknown_format"),
        ([], {}, 422, "no_files"),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_change_nothing(
    app, client, auth, files, form, status, code
):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, files, **form)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    with app.extensions["chatlens.sessions"]() as session:
        assert session.query(Job).count() == 0
        assert session.query(OutboxMessage).count() == 0
    assert stored_files(app) == []


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_kept(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    big = WHATSAPP.encode() * (3 * 1024 * 1024 // len(WHATSAPP))
    response = upload(client, headers, collection_id, [("big.txt", big)])
    assert response.status_code == 413 and response.json["error"]["code"] == "upload_too_large"
    assert stored_files(app) == []


def test_uploads_to_another_orgs_collection_are_404(client, auth):
    collection_id = create_collection(client, auth(org="org-a"))
    response = upload(client, auth(org="org-b"), collection_id, [("a.txt", WHATSAPP.encode())])
    assert response.status_code == 404


def test_job_events_move_forward_only_and_end_in_a_terminal_state(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())])
    job_id = response.json["jobs"][0]["id"]
    sessions = app.extensions["chatlens.sessions"]

    def apply(event):
        with sessions() as session:
            jobs.apply_event(session, event)
            session.commit()

    apply(schemas.JobProgressed(job_id=job_id, stage="embedding", done=5, total=10))
    apply(schemas.JobProgressed(job_id=job_id, stage="parsing", done=0, total=0))  # late, ignored
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert job["status"] == "running" and job["progress"] == {
        "stage": "embedding",
        "done": 5,
        "total": 10,
    }
    apply(
        schemas.IndexUpdated(
            job_id=job_id, collection_id=collection_id, version=1, stats={"added": 2, "messages": 2}
        )
    )
    apply(schemas.JobFailed(job_id=job_id, code="x", reason="too late"))  # terminal stays
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert job["status"] == "succeeded" and job["version"] == 1 and job["stats"]["added"] == 2
    assert client.get(f"/api/v1/collections/{collection_id}", headers=headers).json["version"] == 1


def test_the_event_stream_reports_progress_and_ends_when_the_job_does(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())])
    job_id = response.json["jobs"][0]["id"]
    sessions = app.extensions["chatlens.sessions"]

    def progress_then_finish():
        for event in (
            schemas.JobProgressed(job_id=job_id, stage="embedding", done=1, total=2),
            schemas.IndexUpdated(
                job_id=job_id, collection_id=collection_id, version=1, stats={"messages": 2}
            ),
        ):
            time.sleep(0.3)
            with sessions() as session:
                jobs.apply_event(session, event)
                session.commit()

    threading.Thread(target=progress_then_finish).start()
    response = client.get(f"/api/v1/jobs/{job_id}/events", headers=headers)
    assert response.mimetype == "text/event-stream"
    events = [block for block in response.get_data(as_text=True).split("\n\n") if block]
    kinds = [block.split("\n")[0] for block in events]
    assert kinds[0] == "event: progress" and kinds[-1] == "event: done"
    final = json.loads(events[-1].split("data: ", 1)[1])
    assert final["status"] == "succeeded"
    statuses = [json.loads(b.split("data: ", 1)[1])["status"] for b in events]
    assert "running" in statuses


def test_search_asks_the_embedding_worker_then_the_index_over_rpc(app, client, auth, amqp_url):
    import numpy as np

    from chatlens.shared.bus import PermanentError

    headers = auth()
    collection_id = create_collection(client, headers)
    with app.extensions["chatlens.sessions"]() as session:
        from chatlens.gateway.db import Collection

        session.get(Collection, collection_id).version = 1
        session.commit()
    message = schemas.ChatMessage(
        message_id="m1",
        platform="whatsapp",
        chat="Team",
        sender="Marta",
        sent_at="2024-03-12T09:15:00Z",
        tz_assumption="UTC (assumed)",
        text="Lisbon venue booked",
        seq=0,
        source_file="a.txt",
        source_line=1,
    )
    seen = {}

    def embed(request, delivery):
        return schemas.QueryEmbedded(
            model="m", vectors=schemas.Vectors.from_array(np.ones((1, 4), dtype="float32"))
        )

    def index(request, delivery):
        seen["org"] = request.org_id
        if request.collection_id != collection_id:
            raise PermanentError("no such collection", code="not_found")
        return schemas.SearchAnswered(
            version=1, hits=[schemas.SearchHit(message=message, score=0.9)]
        )

    servers = Bus(amqp_url, "fake-services")
    running = [
        servers.rpc_server(topology.EMBEDDING_RPC.name, embed).start(),
        servers.rpc_server(topology.INDEX_RPC.name, index).start(),
    ]
    try:
        deadline = time.monotonic() + 10
        while not all(s.ready for s in running) and time.monotonic() < deadline:
            time.sleep(0.05)
        response = client.post(
            f"/api/v1/collections/{collection_id}/search",
            json={"query": "where is the offsite?", "k": 3},
            headers=headers,
        )
        assert response.status_code == 200, response.json
        assert response.json["version"] == 1
        [hit] = response.json["results"]
        assert hit["message_id"] == "m1" and hit["sender"] == "Marta" and hit["score"] == 0.9
        assert seen["org"] == "org-a"  # the caller's org goes with every search
    finally:
        for server in running:
            server.stop()


def test_search_without_services_is_a_503_not_a_hang(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    with app.extensions["chatlens.sessions"]() as session:
        from chatlens.gateway.db import Collection

        session.get(Collection, collection_id).version = 1
        session.commit()
    response = client.post(
        f"/api/v1/collections/{collection_id}/search", json={"query": "anything"}, headers=headers
    )
    assert response.status_code == 503 and response.json["error"]["code"] == "search_unavailable"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"query": ""}, "validation_error"),
        ({"query": "x" * 5000}, "validation_error"),
        ({"query": "x", "k": 0}, "validation_error"),
        ({"query": "x", "k": 101}, "validation_error"),
        ({"query": "x", "mode": "telepathic"}, "validation_error"),
        ({"query": "x", "filters": {"colour": "red"}}, "validation_error"),
    ],
)
def test_bad_searches_are_422(client, auth, body, code):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = client.post(
        f"/api/v1/collections/{collection_id}/search", json=body, headers=headers
    )
    assert response.status_code == 422 and response.json["error"]["code"] == code


def test_openapi_document_lists_the_api(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    for path in (
        "/api/v1/collections",
        "/api/v1/collections/{collection_id}/uploads",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/events",
        "/api/v1/collections/{collection_id}/search",
    ):
        assert path in document["paths"]


def test_a_file_larger_than_the_parser_buffer_streams_through(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    content = WHATSAPP.encode() * (1_500_000 // len(WHATSAPP))
    response = upload(client, headers, collection_id, [("large.txt", content)])
    assert response.status_code == 202, response.json
    [stored] = stored_files(app)
    assert (app.config["CHATLENS_UPLOAD_DIR"] / stored).read_bytes() == content


def test_the_event_stream_sends_each_event_as_it_happens(app, client, auth):
    """Progress reaches a client while the job runs: the job only ends after the client has
    read its first event (a view wrapper that read the whole body first once held it back)."""
    from werkzeug.serving import make_server

    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, [("a.txt", WHATSAPP.encode())])
    job_id = response.json["jobs"][0]["id"]
    sessions = app.extensions["chatlens.sessions"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stream = requests.get(
            f"http://127.0.0.1:{server.server_port}/api/v1/jobs/{job_id}/events",
            headers=headers,
            stream=True,
            timeout=30,
        )
        kinds = []
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
                if len(kinds) == 1:  # the queued job's first event came: now let it finish
                    with sessions() as session:
                        jobs.apply_event(
                            session,
                            schemas.IndexUpdated(
                                job_id=job_id,
                                collection_id=collection_id,
                                version=1,
                                stats={"messages": 2},
                            ),
                        )
                        session.commit()
    finally:
        server.shutdown()
    assert kinds == ["progress", "progress", "done"]
