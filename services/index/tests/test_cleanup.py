"""Clean-up: a failed job's staged batches, and a deleted collection's shards, leave the disk."""

from __future__ import annotations

import numpy as np
import pytest

from chatlens.index.cleanup import Cleaner
from chatlens.index.deletion import Deleter
from chatlens.index.handlers import ingest_handler
from chatlens.index.storage.collection import Collection
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    CollectionDeleted,
    IndexUpdated,
    JobAbandoned,
    MessagesDeleteRequested,
    SearchRequested,
)

DELIVERY = Delivery(queue="index.ingest", redelivered=False, delivery_count=0, correlation_id=None)
WHERE = {"org_id": "org1", "collection_id": "coll1"}


@pytest.fixture
def handle(ingestor, layout):
    return ingest_handler(ingestor, Cleaner(layout))


def test_a_job_failed_elsewhere_has_its_staged_batches_removed(make_job, handle, layout, published):
    # The embedding worker published two batches, then refused the rest of the archive.
    job = make_job("job-a", ["m1", "m2", "m3", "m4", "m5", "m6"])
    first, second = job.batches()[:2]
    handle(first, DELIVERY)
    staging = layout.staging("org1", "coll1", "job-a")
    assert staging.exists()
    handle(JobAbandoned(job_id="job-a", **WHERE), DELIVERY)
    assert not staging.exists()
    # A batch that arrives late (or again) stages nothing; the abandonment itself is idempotent.
    handle(second, DELIVERY)
    handle(first, DELIVERY)
    handle(job.finished(), DELIVERY)
    handle(JobAbandoned(job_id="job-a", **WHERE), DELIVERY)
    assert not staging.exists()
    assert not layout.collection("org1", "coll1").exists()
    assert published.of(IndexUpdated) == []


def test_a_job_the_index_refuses_has_its_staged_batches_removed(make_job, handle, layout):
    good = make_job("job-a", ["m1", "m2", "m3", "m4", "m5"])
    handle(good.batches()[0], DELIVERY)
    bad = make_job("job-a", ["m5"], dim=3).batches()[0].model_copy(update={"batch_no": 1})
    with pytest.raises(PermanentError):
        handle(bad, DELIVERY)
    assert not layout.staging("org1", "coll1", "job-a").exists()
    handle(good.finished(), DELIVERY)
    assert not layout.staging("org1", "coll1", "job-a").exists()


def test_a_deleted_collection_leaves_nothing_and_is_never_recreated(
    make_job, handle, layout, searcher, published
):
    for message in make_job("job-a", ["m1", "m2"]).all_messages():
        handle(message, DELIVERY)
    late = make_job("job-b", ["m3", "m4", "m5", "m6", "m7"], seed=1)
    handle(late.batches()[0], DELIVERY)  # a job still running when the collection goes
    path = layout.collection("org1", "coll1")
    assert Collection(path).exists()

    handle(CollectionDeleted(**WHERE), DELIVERY)
    handle(CollectionDeleted(**WHERE), DELIVERY)  # redelivered: nothing more to do

    assert not path.exists()
    assert list(path.parent.iterdir()) == []
    assert not (layout.root / "staging" / "org1" / "coll1").exists()
    with pytest.raises(PermanentError) as refused:
        searcher.search(SearchRequested(**WHERE, vector=np.ones(16).tolist()))
    assert refused.value.code == "not_found"
    for message in late.all_messages():
        handle(message, DELIVERY)
    assert not path.exists()
    assert [u.job_id for u in published.of(IndexUpdated)] == ["job-a"]


def test_clean_up_messages_with_bad_ids_are_refused(handle, published):
    with pytest.raises(PermanentError):
        handle(CollectionDeleted(org_id="..", collection_id="coll1"), DELIVERY)
    with pytest.raises(PermanentError):
        handle(JobAbandoned(job_id="../x", **WHERE), DELIVERY)
    assert published == []  # no JobFailed for what is not a job's message


def test_a_purged_collection_is_deleted_too(make_text_job, handle, layout, segments, ingestor):
    for message in make_text_job("job-a", ["keep", "drop"]).all_messages():
        handle(message, DELIVERY)
    Deleter(segments, ingestor).delete(MessagesDeleteRequested(**WHERE, job_id="job-a", purge=True))
    handle(CollectionDeleted(**WHERE), DELIVERY)
    path = layout.collection("org1", "coll1")
    assert not path.exists() and list(path.parent.iterdir()) == []
