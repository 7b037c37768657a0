"""The dead-letter sweeper's decisions, without a broker: which job fails and why, what is
parked, and a dead job failure that is never answered with another one (it could die the same
way, for ever). The real RabbitMQ path is services/gateway/tests/test_dead_letters.py."""

from __future__ import annotations

from prometheus_client import REGISTRY

from chatlens.shared import schemas
from chatlens.shared.deadletters import DeadLetter, sweeper, swept_queues


def dead(message: schemas.Message, queue: str, **headers) -> DeadLetter:
    return DeadLetter(
        queue=queue,
        type=message.type,
        message_id=message.id,
        body=schemas.encode(message),
        headers=headers,
    )


def swept(queue: str, reason: str) -> float:
    return (
        REGISTRY.get_sample_value("chatlens_dead_letters_total", {"queue": queue, "reason": reason})
        or 0.0
    )


def run(letter: DeadLetter) -> tuple[list[schemas.Message], list[DeadLetter]]:
    published: list[schemas.Message] = []
    parked: list[DeadLetter] = []
    sweeper(published.append, parked.append)(letter)
    return published, parked


def test_a_message_past_its_delivery_limit_fails_its_job_and_is_parked():
    request = schemas.IngestRequested(
        job_id="job-1",
        org_id="o",
        collection_id="c",
        upload_key="k",
        filename="f.txt",
        sha256="0" * 64,
        size=1,
    )
    letter = dead(request, "embedding.ingest", **{"x-first-death-reason": "delivery_limit"})
    before = swept("embedding.ingest", "delivery_limit")
    published, parked = run(letter)
    [failed] = published
    assert isinstance(failed, schemas.JobFailed)
    assert (failed.job_id, failed.code) == ("job-1", "gave_up")
    assert failed.reason.startswith(
        "dead-lettered after 6 deliveries from embedding.ingest (ingest.requested)"
    )
    assert parked == [letter]
    assert parked[0].parked_headers()["x-chatlens-deliveries"] == 6
    assert swept("embedding.ingest", "delivery_limit") == before + 1


def test_a_rejected_message_says_so_and_the_broker_count_wins_when_present():
    batch = schemas.EmbeddingFinished(
        job_id="job-2", org_id="o", collection_id="c", batches=1, stats={}
    )
    letter = dead(
        batch,
        "index.ingest",
        **{"x-death": [{"reason": "rejected", "count": 1}], "x-delivery-count": 2},
    )
    assert letter.reason == "rejected" and letter.deliveries == 3
    [failed], _ = run(letter)
    assert "after it was refused as a permanent failure from index.ingest" in failed.reason


def test_a_dead_job_failure_is_parked_without_failing_the_job_again():
    published, parked = run(
        dead(schemas.JobFailed(job_id="j", code="x", reason="y"), "gateway.jobs")
    )
    assert published == [] and len(parked) == 1


def test_an_undecodable_message_is_parked_and_counted_without_a_job():
    letter = DeadLetter(queue="embedding.ingest", type=None, message_id=None, body=b"\xff{oops")
    assert letter.job_id is None and letter.reason == "unknown"
    published, parked = run(letter)
    assert published == [] and parked == [letter]


def test_every_work_queue_is_swept_and_no_rpc_queue():
    assert [spec.name for spec in swept_queues()] == [
        "embedding.ingest",
        "index.ingest",
        "gateway.jobs",
        "index.jobs",
    ]
    replicated = {spec.name for spec in swept_queues(2)}
    assert {"index.ingest.r0", "index.ingest.r1", "index.jobs.r0", "index.jobs.r1"} <= replicated
    assert not any(name.endswith(".rpc") or ".rpc." in name for name in replicated)
