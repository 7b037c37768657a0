"""The bus-facing handlers: routing by message type, and telling the gateway about a dead job."""

from __future__ import annotations

import pytest

from chatlens.index.handlers import ingest_handler, jobs_handler, search_handler
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import EmbedQuery, IndexUpdated, JobFailed, SearchRequested

DELIVERY = Delivery(queue="index.ingest", redelivered=False, delivery_count=0, correlation_id=None)


def test_batches_and_the_finish_are_routed_to_the_ingestor(make_job, ingestor, published):
    handle = ingest_handler(ingestor)
    for message in make_job("job-a", ["m1", "m2"]).all_messages():
        assert handle(message, DELIVERY) is None
    assert [u.version for u in published.of(IndexUpdated)] == [1]


def test_a_refused_batch_fails_its_job_and_is_dead_lettered(make_job, ingestor, published):
    batch = make_job("job-a", ["m1"], dim=3).batches()[0]
    with pytest.raises(PermanentError):
        ingest_handler(ingestor)(batch, DELIVERY)
    failed = published.of(JobFailed)
    assert [(f.job_id, f.code) for f in failed] == [("job-a", "invalid_vector")]


def test_a_batch_failing_on_its_last_delivery_fails_its_job_gave_up(
    make_job, ingestor, published, monkeypatch
):
    """A failure that is not the message's fault (a full disk) is requeued; on the queue's last
    delivery the job fails now, instead of waiting for a batch the dead-letter queue took."""

    def disk_full(message):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingestor, "on_batch", disk_full)
    handle = ingest_handler(ingestor)
    batch = make_job("job-a", ["m1"]).batches()[0]
    with pytest.raises(OSError):
        handle(batch, DELIVERY)
    assert published.of(JobFailed) == []  # another delivery will come: nothing failed yet

    last = Delivery(
        queue="index.ingest", redelivered=True, delivery_count=10, correlation_id=None, last=True
    )
    with pytest.raises(OSError):  # still requeued: the limit dead-letters it, kept for a look
        handle(batch, last)
    [failed] = published.of(JobFailed)
    assert (failed.job_id, failed.code) == ("job-a", "gave_up")
    assert "after 11 attempts (OSError" in failed.reason and "No space left" in failed.reason


def test_a_message_the_index_does_not_take_is_refused(ingestor, searcher, published):
    with pytest.raises(PermanentError):
        ingest_handler(ingestor)(EmbedQuery(texts=["hi"]), DELIVERY)
    with pytest.raises(PermanentError):
        search_handler(searcher)(EmbedQuery(texts=["hi"]), DELIVERY)
    assert published == []


def test_a_search_request_is_answered(make_job, run_messages, searcher):
    job = make_job("job-a", ["m1", "m2"])
    run_messages(job.all_messages())
    request = SearchRequested(
        org_id="org1", collection_id="coll1", vector=job.vectors["m2"].tolist(), k=1
    )
    answer = search_handler(searcher)(request, DELIVERY)
    assert answer.hits[0].message.message_id == "m2"


def test_search_time_is_recorded_by_mode(make_job, run_messages, searcher):
    from prometheus_client import REGISTRY

    def searches(mode: str) -> float:
        return (
            REGISTRY.get_sample_value("chatlens_index_search_seconds_count", {"mode": mode}) or 0.0
        )

    job = make_job("job-a", ["m1", "m2"])
    run_messages(job.all_messages())
    before = {mode: searches(mode) for mode in ("semantic", "keyword")}
    search_handler(searcher)(
        SearchRequested(
            org_id="org1", collection_id="coll1", vector=job.vectors["m2"].tolist(), k=1
        ),
        DELIVERY,
    )
    assert searches("semantic") == before["semantic"] + 1
    assert searches("keyword") == before["keyword"]


def test_every_message_bound_to_the_index_queues_has_a_handler():
    from chatlens.index.analytics.service import Analytics
    from chatlens.index.analytics.topics_job import TopicsJobs
    from chatlens.index.browse import Browser
    from chatlens.index.cleanup import Cleaner
    from chatlens.index.deletion import Deleter
    from chatlens.index.ingest import Ingestor
    from chatlens.index.people import PeopleGrouper
    from chatlens.index.search import Searcher
    from chatlens.index.tags import Tags
    from chatlens.index.versions import Versions

    def bare(cls):  # routing only: no component is built or called
        return cls.__new__(cls)

    complete = search_handler(
        bare(Searcher),
        bare(Versions),
        bare(Browser),
        bare(Tags),
        bare(Deleter),
        bare(Analytics),
        bare(PeopleGrouper),
        bare(TopicsJobs),
    )
    assert complete.unhandled() == []
    assert jobs_handler(bare(TopicsJobs)).unhandled() == []
    assert ingest_handler(bare(Ingestor), bare(Cleaner)).unhandled() == []
