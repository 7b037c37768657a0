"""Webhooks per collection (issue 14) through the API, the job events and the dispatcher, with a
REAL HTTP receiver on loopback; on SQLite, MariaDB and PostgreSQL (the ``database_url`` fixture).

Loopback is a private address: these tests run with WEBHOOK_ALLOW_PRIVATE and _HTTP, as an
operator would allow a local receiver; one test shows the default refusing it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from chatlens.gateway import jobs
from chatlens.gateway.application import webhooks as use_cases
from chatlens.gateway.webhooks import signing
from chatlens.gateway.webhooks.dispatcher import Dispatcher, DispatchSettings
from chatlens.gateway.webhooks.tables import Webhook, WebhookAttempt, WebhookDelivery
from chatlens.shared import egress as addresses
from chatlens.shared import schemas
from chatlens.shared.secret_box import SecretBox

from .test_api import create_collection, upload
from .webhook_receiver import serve

FAST = {
    "webhook_allow_private": True,
    "webhook_allow_http": True,
    "webhook_backoff_s": 0.01,
    "webhook_backoff_max_s": 0.05,
    "webhook_timeout_s": 2.0,
    "webhook_max_attempts": 4,
}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update=FAST)


@pytest.fixture
def receiver():
    with serve() as receiver:
        yield receiver


def hooks_url(collection_id, *rest):
    return "/".join([f"/api/v1/collections/{collection_id}/webhooks", *rest])


def make_hook(client, headers, collection_id, url, events=("job.succeeded", "version.created")):
    response = client.post(
        hooks_url(collection_id),
        headers=headers,
        json={"url": url, "events": list(events), "description": "ci"},
    )
    assert response.status_code == 201, response.json
    return response.json


def drain(app, until, timeout=20.0):
    """Run the app's dispatcher by hand until ``until()`` holds."""
    dispatcher = app.extensions["chatlens.dispatcher"]
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the dispatcher did not get there in time"
        if not dispatcher.run_once():
            time.sleep(0.02)


def delivery_status(app, delivery_id):
    with app.extensions["chatlens.sessions"]() as session:
        return session.get(WebhookDelivery, delivery_id).status


def counted(outcome):
    return (
        REGISTRY.get_sample_value("chatlens_gateway_webhook_deliveries_total", {"outcome": outcome})
        or 0.0
    )


def test_an_owner_manages_a_webhook_and_sees_its_secret_only_once(app, client, auth, receiver):
    headers = auth()
    collection = create_collection(client, headers)
    created = make_hook(client, headers, collection, receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["events"] == ["job.succeeded", "version.created"]
    listed = client.get(hooks_url(collection), headers=headers).json["webhooks"]
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    one = client.get(hooks_url(collection, created["id"]), headers=headers).json
    assert "secret" not in one and one["url"] == receiver.url
    with app.extensions["chatlens.sessions"]() as session:
        stored = session.get(Webhook, created["id"]).secret
    assert secret not in stored  # encrypted at rest, and the key file decrypts it
    assert app.extensions["chatlens.webhooks"].box.decrypt(stored) == secret

    changed = client.patch(
        hooks_url(collection, created["id"]),
        headers=headers,
        json={"events": ["job.failed"], "active": False},
    )
    assert changed.status_code == 200 and changed.json["events"] == ["job.failed"]
    assert changed.json["active"] is False
    rotated = client.post(hooks_url(collection, created["id"], "rotate-secret"), headers=headers)
    assert rotated.status_code == 200 and rotated.json["secret"] not in (secret, None)
    assert client.delete(hooks_url(collection, created["id"]), headers=headers).status_code == 204
    gone = client.get(hooks_url(collection, created["id"]), headers=headers)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "webhook_not_found"


def test_viewers_and_analysts_are_refused_and_another_org_finds_nothing(client, auth, receiver):
    owner = auth()
    collection = create_collection(client, owner)
    hook = make_hook(client, owner, collection, receiver.url)
    for role in ("viewer", "analyst"):
        for method, path in (
            ("post", hooks_url(collection)),
            ("get", hooks_url(collection)),
            ("post", hooks_url(collection, hook["id"], "ping")),
        ):
            refused = getattr(client, method)(
                path, headers=auth(role=role), json={"url": receiver.url, "events": ["job.failed"]}
            )
            assert refused.status_code == 403, (role, path)
            assert refused.json["error"]["code"] == "forbidden"
    assert client.get(hooks_url(collection), headers=auth(role="admin")).status_code == 200
    stranger = auth(org="org-b", user="user-b")
    for path in (hooks_url(collection), hooks_url(collection, hook["id"])):
        assert client.get(path, headers=stranger).status_code == 404


def test_webhooks_need_their_own_permission_not_the_provider_secrets_one(client, auth, receiver):
    """``webhooks:manage``: a member whose token carries every other admin permission, provider
    secrets' included, is refused on every webhook route; one that carries it alone is not."""
    from .conftest import ROLE_PERMS

    owner = auth()
    collection = create_collection(client, owner)
    hook = make_hook(client, owner, collection, receiver.url)
    without = [p for p in ROLE_PERMS["admin"] if p != "webhooks:manage"]
    assert "secrets:manage" in without
    member = auth(role="admin", perms=without)
    body = {"url": receiver.url, "events": ["job.failed"]}
    routes = [
        ("post", hooks_url(collection)),
        ("get", hooks_url(collection)),
        ("get", hooks_url(collection, hook["id"])),
        ("patch", hooks_url(collection, hook["id"])),
        ("delete", hooks_url(collection, hook["id"])),
        ("post", hooks_url(collection, hook["id"], "rotate-secret")),
        ("post", hooks_url(collection, hook["id"], "ping")),
        ("get", hooks_url(collection, hook["id"], "deliveries")),
    ]
    for method, path in routes:
        refused = getattr(client, method)(path, headers=member, json=body)
        assert refused.status_code == 403, (method, path)
        assert refused.json["error"]["code"] == "forbidden"
    only = auth(role="viewer", perms=["collections:read", "webhooks:manage"])
    assert client.get(hooks_url(collection), headers=only).status_code == 200
    assert client.post(hooks_url(collection, hook["id"], "ping"), headers=only).status_code == 202


def test_bad_input_is_a_clear_4xx_and_changes_nothing(app, client, auth, receiver):
    headers = auth()
    collection = create_collection(client, headers)
    for body, status, code in (
        ({"url": receiver.url, "events": ["job.exploded"]}, 422, "validation_error"),
        ({"url": receiver.url, "events": []}, 422, "validation_error"),
        ({"url": receiver.url}, 422, "validation_error"),
        ({"url": "ftp://example.com/in", "events": ["job.failed"]}, 422, "webhook_url_refused"),
        ({"url": receiver.url, "events": ["ping"]}, 422, "validation_error"),
        (
            {"url": receiver.url, "events": ["job.failed"], "secret": "mine"},
            422,
            "validation_error",
        ),
    ):
        refused = client.post(hooks_url(collection), headers=headers, json=body)
        assert refused.status_code == status, (body, refused.json)
        assert refused.json["error"]["code"] == code, (body, refused.json)
    # The product's default: loopback and private addresses, and plain http, are refused.
    context = app.extensions["chatlens.webhooks"]
    app.extensions["chatlens.webhooks"] = use_cases.Context(context.box, addresses.Policy())
    for url in (
        receiver.url,
        receiver.url.replace("http://", "https://"),
        "https://169.254.169.254/latest",
        "https://[::1]/in",
        "https://2130706433/",
    ):
        refused = client.post(
            hooks_url(collection), headers=headers, json={"url": url, "events": ["job.failed"]}
        )
        assert refused.status_code == 422, (url, refused.json)
        assert refused.json["error"]["code"] == "webhook_url_refused"
    missing = client.post(
        hooks_url("0" * 32),
        headers=headers,
        json={"url": "https://example.com/x", "events": ["job.failed"]},
    )
    assert missing.status_code == 404
    assert client.get(hooks_url(collection), headers=headers).json == {"webhooks": []}


def test_a_failing_receiver_gets_the_ping_once_after_retries_with_a_valid_signature(
    app, client, auth, receiver
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    receiver.plan = [500, 503]
    retrying, delivered = counted("retrying"), counted("delivered")
    pinged = client.post(hooks_url(collection, hook["id"], "ping"), headers=headers)
    assert pinged.status_code == 202 and pinged.json["status"] == "pending"
    delivery_id = pinged.json["id"]
    drain(app, lambda: delivery_status(app, delivery_id) == "delivered")

    assert [r.answered for r in receiver.received] == [500, 503, 200]
    assert {r.headers["Chatlens-Delivery"] for r in receiver.received} == {delivery_id}
    [arrived] = receiver.answered(200)
    assert arrived.headers["Chatlens-Event"] == "ping"
    assert signing.verify(hook["secret"], arrived.headers["Chatlens-Signature"], arrived.body)
    assert json.loads(arrived.body)["id"] == delivery_id
    assert json.loads(arrived.body)["type"] == "ping"
    assert counted("retrying") - retrying == 2 and counted("delivered") - delivered == 1

    detail = client.get(
        hooks_url(collection, hook["id"], "deliveries", delivery_id), headers=headers
    ).json
    assert detail["status"] == "delivered" and detail["attempts"] == 3
    assert [(a["number"], a["status_code"]) for a in detail["attempt_log"]] == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]
    assert detail["attempt_log"][0]["error"] == "HTTP 500"
    assert detail["body"].encode() == arrived.body
    log = client.get(hooks_url(collection, hook["id"], "deliveries"), headers=headers).json
    assert [d["id"] for d in log["deliveries"]] == [delivery_id]


def test_a_delivery_is_dead_after_the_limit_and_a_redelivery_sends_it_again(
    app, client, auth, receiver
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    receiver.plan = [500, 502, 302, 500]  # a redirect is a failure: it is never followed
    delivery_id = client.post(hooks_url(collection, hook["id"], "ping"), headers=headers).json["id"]
    drain(app, lambda: delivery_status(app, delivery_id) == "dead")
    assert len(receiver.received) == 4  # webhook_max_attempts
    assert all(r.headers.get("Chatlens-Delivery") == delivery_id for r in receiver.received)
    dead = client.get(
        hooks_url(collection, hook["id"], "deliveries"),
        headers=headers,
        query_string={"status": "dead"},
    ).json["deliveries"]
    assert [d["id"] for d in dead] == [delivery_id]
    detail = client.get(
        hooks_url(collection, hook["id"], "deliveries", delivery_id), headers=headers
    ).json
    assert detail["attempt_log"][2]["error"] == "redirects are not followed"

    again = client.post(
        hooks_url(collection, hook["id"], "deliveries", delivery_id, "redeliver"), headers=headers
    )
    assert again.status_code == 202 and again.json["id"] == delivery_id
    drain(app, lambda: delivery_status(app, delivery_id) == "delivered")
    assert [r.answered for r in receiver.received] == [500, 502, 302, 500, 200]
    numbers = client.get(
        hooks_url(collection, hook["id"], "deliveries", delivery_id), headers=headers
    ).json["attempt_log"]
    assert [a["number"] for a in numbers] == [1, 2, 3, 4, 5]
    twice = client.post(
        hooks_url(collection, hook["id"], "deliveries", "f" * 32, "redeliver"), headers=headers
    )
    assert twice.status_code == 404 and twice.json["error"]["code"] == "delivery_not_found"


def test_a_finished_job_and_its_deliveries_commit_together_once(
    app, client, auth, receiver, export_file
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(
        client,
        headers,
        collection,
        receiver.url,
        events=("job.succeeded", "job.failed", "version.created"),
    )
    quiet = make_hook(client, headers, collection, receiver.url, events=("job.failed",))
    job_ids = [
        upload(client, headers, collection, [(f"{n}.txt", export_file.read_bytes())]).json["jobs"][
            0
        ]["id"]
        for n in ("a", "b")
    ]
    sessions = app.extensions["chatlens.sessions"]
    done = schemas.IndexUpdated(
        job_id=job_ids[0], collection_id=collection, version=1, stats={"messages": 2}
    )
    with sessions() as session:  # a transaction that fails stages nothing
        jobs.apply_event(session, done)
        session.rollback()
    with sessions() as session:
        assert session.scalars(select(WebhookDelivery)).all() == []
    for _ in range(2):  # the event redelivered: announced once
        with sessions() as session:
            jobs.apply_event(session, done)
            session.commit()
    with sessions() as session:
        jobs.apply_event(
            session,
            schemas.JobFailed(job_id=job_ids[1], code="parse_error", reason="not an export"),
        )
        session.commit()
        staged = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)).all()
        events = sorted((row.webhook_id == quiet["id"], row.event) for row in staged)
    assert events == [
        (False, "job.failed"),
        (False, "job.succeeded"),
        (False, "version.created"),
        (True, "job.failed"),
    ]
    drain(app, lambda: len(receiver.answered()) == 4)
    bodies = {
        (r.headers["Chatlens-Event"], r.headers["Chatlens-Delivery"]): json.loads(r.body)
        for r in receiver.received
    }
    assert len(bodies) == 4
    succeeded = next(b for (e, _), b in bodies.items() if e == "job.succeeded")
    assert succeeded["data"]["id"] == job_ids[0] and succeeded["data"]["status"] == "succeeded"
    assert succeeded["data"]["version"] == 1 and succeeded["collection_id"] == collection
    created = next(b for (e, _), b in bodies.items() if e == "version.created")
    assert created["data"] == {
        "collection_id": collection,
        "version": 1,
        "cause": "ingest",
        "job_id": job_ids[0],
    }
    assert signing.verify(
        hook["secret"],
        receiver.received[0].headers["Chatlens-Signature"],
        receiver.received[0].body,
    ) or signing.verify(
        quiet["secret"],
        receiver.received[0].headers["Chatlens-Signature"],
        receiver.received[0].body,
    )


def test_two_dispatchers_never_hold_the_same_delivery_and_an_expired_lease_is_taken_over(
    app, client, auth, receiver
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    ids = [
        client.post(hooks_url(collection, hook["id"], "ping"), headers=headers).json["id"]
        for _ in range(12)
    ]
    sessions = app.extensions["chatlens.sessions"]
    box = app.extensions["chatlens.webhooks"].box
    settings = DispatchSettings(lease_s=30, policy=addresses.Policy(True, True))
    replicas = [Dispatcher(sessions, box, settings, owner=f"replica-{n}") for n in range(2)]
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(2)

    def claim(replica):
        start.wait()
        claimed[replica.owner] = replica.claim(limit=12) + replica.claim(limit=12)

    threads = [threading.Thread(target=claim, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    first, second = claimed.values()
    assert not set(first) & set(second) and sorted(first + second) == sorted(ids)
    assert replicas[0].claim() == [] and replicas[1].claim() == []
    with sessions.begin() as session:  # replica-0's lease ran out (it died)
        for row in session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.lease_owner == "replica-0")
        ):
            row.lease_until = row.lease_until.replace(year=2000)
    assert sorted(replicas[1].claim(limit=12)) == sorted(claimed["replica-0"])


def _dispatch_forever(database_url: str, key_path: str) -> None:
    from pathlib import Path

    from chatlens.gateway.db import make_engine, make_sessions

    sessions = make_sessions(make_engine(database_url))
    Dispatcher(
        sessions,
        SecretBox(Path(key_path)),
        DispatchSettings(timeout_s=60, lease_s=3, policy=addresses.Policy(True, True)),
    ).run()


def test_a_gateway_killed_mid_delivery_still_delivers_after_restart(
    app, client, auth, receiver, settings
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    release = threading.Event()
    receiver.hold = release  # the first request hangs while the sender is killed
    delivery_id = client.post(hooks_url(collection, hook["id"], "ping"), headers=headers).json["id"]
    spawn = multiprocessing.get_context("spawn")
    doomed = spawn.Process(
        target=_dispatch_forever,
        args=(settings.resolved_database_url(), str(settings.resolved_webhook_key_path())),
    )
    doomed.start()
    try:
        assert receiver.holding.wait(60), "the first dispatcher never sent"
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.join(10)
    finally:
        release.set()
        if doomed.is_alive():
            doomed.kill()
    assert delivery_status(app, delivery_id) == "pending"  # nothing recorded its attempt
    drain(app, lambda: delivery_status(app, delivery_id) == "delivered")  # after the lease
    ids = [r.headers["Chatlens-Delivery"] for r in receiver.received]
    assert ids == [delivery_id, delivery_id]  # at least once, the id stable for de-duplication
    with app.extensions["chatlens.sessions"]() as session:
        attempts = session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
        ).all()
    assert [a.status_code for a in attempts] == [200]


def test_a_url_refused_at_delivery_time_is_dead_at_once(app, client, auth, receiver):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    delivery_id = client.post(hooks_url(collection, hook["id"], "ping"), headers=headers).json["id"]
    strict = Dispatcher(
        app.extensions["chatlens.sessions"],
        app.extensions["chatlens.webhooks"].box,
        DispatchSettings(),
    )
    assert strict.run_once() == 1
    assert delivery_status(app, delivery_id) == "dead" and receiver.received == []


def test_the_cleanup_command_prunes_old_finished_deliveries_and_keeps_what_is_owed(
    app, client, auth, receiver, settings, tmp_path
):
    import subprocess
    import sys
    from datetime import timedelta

    from chatlens.gateway.db import utcnow

    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, receiver.url)
    ids = [
        client.post(hooks_url(collection, hook["id"], "ping"), headers=headers).json["id"]
        for _ in range(4)
    ]
    drain(app, lambda: len(receiver.answered()) == 4)
    old, recent, dead, pending = ids
    long_ago = utcnow() - timedelta(days=31)
    with app.extensions["chatlens.sessions"].begin() as session:
        for delivery_id, status, finished in (
            (old, "delivered", long_ago),
            (dead, "dead", long_ago),
            (pending, "pending", None),
        ):
            row = session.get(WebhookDelivery, delivery_id)
            row.status, row.finished_at, row.created_at = status, finished, long_ago
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": settings.database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "chatlens.gateway", "cleanup", "--webhook-retention-days", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["webhook_deliveries"] == 2
    with app.extensions["chatlens.sessions"]() as session:
        left = set(session.scalars(select(WebhookDelivery.id)))
        attempts = set(session.scalars(select(WebhookAttempt.delivery_id)))
    assert left == {recent, pending} and attempts == {recent, pending}


def test_a_slow_receiver_does_not_hold_up_another_webhooks_delivery(app, client, auth, receiver):
    headers = auth()
    collection = create_collection(client, headers)
    with serve() as other:
        slow = make_hook(client, headers, collection, receiver.url)
        quick = make_hook(client, headers, collection, other.url)
        release = threading.Event()
        receiver.hold = release
        client.post(hooks_url(collection, slow["id"], "ping"), headers=headers)
        client.post(hooks_url(collection, quick["id"], "ping"), headers=headers)
        sending = threading.Thread(target=app.extensions["chatlens.dispatcher"].run_once)
        sending.start()
        try:
            assert receiver.holding.wait(20), "the slow receiver never got its delivery"
            deadline = time.monotonic() + 20
            while not other.answered():  # answered while the slow one is still held
                assert time.monotonic() < deadline, "the quick delivery waited for the slow"
                time.sleep(0.02)
            assert receiver.received == []
        finally:
            release.set()
            sending.join(30)
    assert len(receiver.answered()) == 1


def test_a_restored_version_is_announced_once_whoever_learns_of_it_first(
    app, client, auth, receiver
):
    from chatlens.gateway.db import Collection
    from chatlens.gateway.webhooks import outbox

    headers = auth()
    collection = create_collection(client, headers)
    make_hook(client, headers, collection, receiver.url, events=("version.created",))
    sessions = app.extensions["chatlens.sessions"]
    with sessions() as session:  # the restore's RPC answer moves the version first...
        row = session.get(Collection, collection)
        assert outbox.advance_version(session, row, 3, "restore")
        session.commit()
        assert row.version == 3
    restored = schemas.IndexRestored(
        org_id="org-a", collection_id=collection, version=3, restored=1
    )
    for event in (restored, restored):  # ...then its event, redelivered: nothing more
        with sessions() as session:
            jobs.apply_event(session, event)
            session.commit()
    with sessions() as session:
        jobs.apply_event(session, restored.model_copy(update={"version": 4}))
        session.commit()
        staged = session.scalars(select(WebhookDelivery)).all()
    versions = sorted(json.loads(row.body)["data"]["version"] for row in staged)
    assert versions == [3, 4]
    assert {json.loads(row.body)["data"]["cause"] for row in staged} == {"restore"}
