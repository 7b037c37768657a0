"""The topics endpoints: a cached result answered at once, else one job per request (joined
while it runs), its progress and end applied from the index's events, and bad input refused.

The index is a fake RPC server on the real bus (as in ``test_analytics_api``); the clustering
itself is tested in ``services/index/tests/test_topics.py``.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from chatlens.gateway.db import Job, OutboxMessage
from chatlens.gateway.jobs import apply_event
from chatlens.gateway.webhooks.tables import WebhookDelivery
from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError

from .test_search import FakeServices, create_collection, set_version
from .test_webhooks import FAST, drain, make_hook
from .webhook_receiver import serve

RESULT = {
    "k": 2,
    "chosen_by": "silhouette",
    "silhouette": 0.61,
    "scores": [{"k": 2, "silhouette": 0.61}, {"k": 3, "silhouette": 0.4}],
    "messages": 12,
    "clustered": 10,
    "noise": 2,
    "topics": [
        {
            "topic": t,
            "label": label,
            "terms": [{"term": label, "score": 0.5}],
            "size": 5,
            "share": 0.5,
            "representatives": [
                {
                    "message_id": f"m{t}",
                    "sender": "Marta",
                    "sent_at": "2025-02-14T11:15:00+00:00",
                    "text": label,
                }
            ],
        }
        for t, label in enumerate(["porto", "deploy"])
    ],
    "over_time": [
        {"bucket": "2025-02", "topic": 0, "messages": 5},
        {"bucket": "2025-02", "topic": 1, "messages": 5},
    ],
    "map": {
        "method": "openTSNE",
        "points": [{"message_id": "m0", "x": 1.5, "y": -2.0, "topic": 0}],
    },
    "parameters": {
        "k": None,
        "k_min": 2,
        "k_max": 3,
        "min_words": 3,
        "map_points": 100,
        "bucket": "month",
    },
    "seed": 0,
}


class Index:
    """Answers TopicsLookup from what it was told is computed (by parameters' k_max)."""

    def __init__(self) -> None:
        self.computed: set[int] = set()

    def __call__(self, request):
        if not isinstance(request, schemas.TopicsLookup):
            raise PermanentError("unexpected")
        if request.version not in (None, 2):
            raise PermanentError("no such version", code="version_not_found")
        done = request.params.k_max in self.computed
        return schemas.TopicsFound(version=2, result=RESULT if done else None)


@pytest.fixture
def collection(app, client, auth, amqp_url):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 2)
    index = Index()
    fake = FakeServices(amqp_url, index)
    yield headers, collection_id, fake, index
    fake.stop()


def start(client, headers, collection_id, **body):
    return client.post(
        f"/api/v1/collections/{collection_id}/analytics/topics", json=body, headers=headers
    )


def topics_jobs(app) -> list[Job]:
    with app.extensions["chatlens.sessions"]() as session:
        return list(session.scalars(select(Job).where(Job.kind == "topics")))


def requested(app) -> list[schemas.TopicsRequested]:
    with app.extensions["chatlens.sessions"]() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_type == schemas.TopicsRequested.type)
        )
        return [schemas.decode(row.message_type, row.body.encode("utf-8")) for row in rows]


def test_starting_records_a_job_and_its_request_then_the_events_finish_it(app, client, collection):
    headers, collection_id, fake, index = collection
    response = start(
        client,
        headers,
        collection_id,
        k_min=2,
        k_max=3,
        map_points=100,
        sender=["Marta"],
        language=["pt"],
        since="2025-02-01",
        timezone="Europe/Lisbon",
    )
    assert response.status_code == 202, response.json
    job = response.json["job"]
    assert response.json["version"] == 2
    assert (job["status"], job["kind"]) == ("queued", "topics")
    [asked] = requested(app)
    assert (asked.job_id, asked.collection_id, asked.version) == (job["id"], collection_id, 2)
    assert asked.params.k_max == 3 and asked.params.map_points == 100
    assert asked.filters.sender == ["Marta"] and asked.timezone == "Europe/Lisbon"
    assert asked.filters.language == ["pt"]
    [lookup] = fake.of(schemas.TopicsLookup)
    assert lookup.version is None and lookup.params == asked.params

    # The same request while it runs joins that job: no second computation.
    again = start(
        client,
        headers,
        collection_id,
        k_min=2,
        k_max=3,
        map_points=100,
        sender=["Marta"],
        language=["pt"],
        since="2025-02-01",
        timezone="Europe/Lisbon",
    )
    assert again.status_code == 202 and again.json["job"]["id"] == job["id"]
    assert len(requested(app)) == 1 and len(topics_jobs(app)) == 1

    with app.extensions["chatlens.sessions"]() as session:
        apply_event(
            session,
            schemas.TopicsProgressed(job_id=job["id"], stage="clustering", done=1, total=3),
        )
        session.commit()
    progress = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).json
    assert progress["status"] == "running"
    assert progress["progress"] == {"stage": "clustering", "done": 1, "total": 3}
    with app.extensions["chatlens.sessions"]() as session:
        apply_event(
            session,
            schemas.TopicsComputed(
                job_id=job["id"], collection_id=collection_id, version=2, stats={"k": 2}
            ),
        )
        session.commit()
    finished = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).json
    assert (finished["status"], finished["version"], finished["stats"]) == (
        "succeeded",
        2,
        {"k": 2},
    )


def test_a_cached_result_is_answered_at_once_and_read_back_with_get(app, client, collection):
    headers, collection_id, fake, index = collection
    url = f"/api/v1/collections/{collection_id}/analytics/topics?k_min=2&k_max=3&map_points=100"
    missing = client.get(url, headers=headers)
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "topics_not_computed")
    index.computed.add(3)
    response = start(client, headers, collection_id, k_min=2, k_max=3, map_points=100)
    assert response.status_code == 200, response.json
    assert response.json == {**RESULT, "version": 2, "timezone": "UTC"}
    assert topics_jobs(app) == [] and requested(app) == []
    read = client.get(url + "&version=2", headers=headers)
    assert read.status_code == 200 and read.json["topics"][1]["label"] == "deploy"
    assert fake.of(schemas.TopicsLookup)[-1].version == 2


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"k": 25}, 400, "k_out_of_range"),
        ({"k": 3, "k_min": 4}, 400, "k_out_of_range"),
        ({"k_min": 1}, 400, "invalid_k_range"),
        ({"k_max": 51}, 400, "invalid_k_range"),
        ({"k_min": 9, "k_max": 5}, 400, "invalid_k_range"),
        ({"map_points": 20_001}, 400, "map_points_out_of_range"),
        ({"map_points": -1}, 400, "map_points_out_of_range"),
        ({"min_words": 0}, 400, "min_words_out_of_range"),
        ({"k": "five"}, 422, "validation_error"),
        ({"language": ["portuguese"]}, 422, "validation_error"),
        ({"bucket": "year"}, 422, "validation_error"),
        ({"colour": "red"}, 422, "validation_error"),
        ({"timezone": "Mars/Olympus"}, 422, "invalid_timezone"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, 422, "invalid_date_range"),
        ({"version": 7}, 404, "version_not_found"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_starts_nothing(
    app, client, collection, body, status, code
):
    headers, collection_id, fake, index = collection
    response = start(client, headers, collection_id, **body)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert topics_jobs(app) == [] and requested(app) == []


def test_the_result_query_refuses_the_same_bad_input(client, collection):
    headers, collection_id, fake, index = collection
    for query, code in [
        ("k=30", "k_out_of_range"),
        ("map_points=50000", "map_points_out_of_range"),
    ]:
        response = client.get(
            f"/api/v1/collections/{collection_id}/analytics/topics?{query}", headers=headers
        )
        assert (response.status_code, response.json["error"]["code"]) == (400, code)
    assert fake.of(schemas.TopicsLookup) == []


def test_another_orgs_collection_is_not_found_and_an_empty_one_is_a_conflict(
    app, client, auth, collection
):
    headers, collection_id, fake, index = collection
    other = start(client, auth(org="org-b"), collection_id)
    assert (other.status_code, other.json["error"]["code"]) == (404, "collection_not_found")
    empty = create_collection(client, headers)
    response = start(client, headers, empty)
    assert (response.status_code, response.json["error"]["code"]) == (409, "collection_empty")
    assert topics_jobs(app) == []


class TestWebhooks:
    """A topics job's end is announced like an upload's: ``job.succeeded`` or ``job.failed``,
    with the job as ``GET /api/v1/jobs/{id}`` shows it; no ``version.created`` (the
    collection's version does not move)."""

    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update=FAST)

    def test_a_topics_job_that_ends_is_announced_to_the_webhooks(self, app, client, collection):
        headers, collection_id, fake, index = collection
        with serve() as receiver:
            make_hook(
                client,
                headers,
                collection_id,
                receiver.url,
                events=("job.succeeded", "job.failed", "version.created"),
            )
            done = start(client, headers, collection_id, k_min=2, k_max=3).json["job"]
            failed = start(client, headers, collection_id, k_min=2, k_max=4).json["job"]
            for event in (
                schemas.TopicsComputed(
                    job_id=done["id"], collection_id=collection_id, version=2, stats={"k": 2}
                ),
                schemas.JobFailed(
                    job_id=failed["id"], code="too_few_messages", reason="only 3 messages"
                ),
            ):
                for _ in range(2):  # a redelivered event announces nothing twice
                    with app.extensions["chatlens.sessions"]() as session:
                        apply_event(session, event)
                        session.commit()
            with app.extensions["chatlens.sessions"]() as session:
                staged = sorted(
                    (row.event, json.loads(row.body)["data"]["id"])
                    for row in session.scalars(select(WebhookDelivery))
                )
            assert staged == [("job.failed", failed["id"]), ("job.succeeded", done["id"])]
            drain(app, lambda: len(receiver.answered()) == 2)
            bodies = {r.headers["Chatlens-Event"]: json.loads(r.body) for r in receiver.received}
        succeeded, lost = bodies["job.succeeded"]["data"], bodies["job.failed"]["data"]
        assert (succeeded["kind"], succeeded["status"], succeeded["version"]) == (
            "topics",
            "succeeded",
            2,
        )
        assert succeeded["stats"] == {"k": 2}
        assert (lost["kind"], lost["status"]) == ("topics", "failed")
        assert lost["error"] == {"code": "too_few_messages", "message": "only 3 messages"}
