"""Deleting a chat, an upload or a sender from the live version: tombstones, versions, restore."""

from __future__ import annotations

import hubness_reference
import numpy as np
import pytest

from chatlens.index.deletion import Deleter
from chatlens.index.handlers import search_handler
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.collection import Collection
from chatlens.index.versions import Versions
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    IndexUpdated,
    MessagesDeleteRequested,
    SearchFilters,
    SearchRequested,
    VersionRestoreRequested,
    VersionsCompareRequested,
    VersionsListRequested,
)

WHERE = {"org_id": "org1", "collection_id": "coll1"}
DELIVERY = Delivery(queue="index.rpc", redelivered=False, delivery_count=0, correlation_id=None)


@pytest.fixture
def deleter(segments, ingestor) -> Deleter:
    return Deleter(segments, ingestor)


@pytest.fixture
def versions(layout, segments, ingestor) -> Versions:
    return Versions(ManifestReader(layout), segments, ingestor)


@pytest.fixture
def two_uploads(make_text_job, run_messages):
    """v1: job-a, three chats; v2: job-b, one new message and one already in job-a."""
    job_a = make_text_job(
        "job-a",
        [
            {
                "text": "lisbon offsite in march",
                "chat": "Trips",
                "sender": "Sam",
                "sender_id": "U1",
            },
            {"text": "the invoice is paid", "chat": "Finance", "sender": "Marta"},
            {"text": "booked the flights", "chat": "Trips", "sender": "Marta"},
            {"text": "invoice number 42", "chat": "Finance", "sender": "Sam", "sender_id": "U1"},
            {"text": "see you there", "chat": "Trips", "sender": "Léa"},
        ],
    )
    run_messages(job_a.all_messages())
    overlap = job_a.messages[1]
    job_b = make_text_job("job-b", ["a brand new thought"], seed=1)
    job_b.messages.append(overlap)
    job_b.vectors[overlap.message_id] = job_a.vectors[overlap.message_id]
    run_messages(job_b.all_messages())
    return job_a, job_b


def ids(searcher, version=None, **filters) -> set[str]:
    answer = searcher.search(
        SearchRequested(
            **WHERE,
            vector=np.ones(16).tolist(),
            k=100,
            version=version,
            context=0,
            filters=SearchFilters(**filters),
        )
    )
    return {hit.message.message_id for hit in answer.hits}


def delete(deleter, **selector):
    return deleter.delete(MessagesDeleteRequested(**WHERE, **selector))


def test_deleting_a_chat_makes_a_new_version_without_its_messages(
    two_uploads, deleter, searcher, versions, layout
):
    before = ids(searcher)
    deleted = delete(deleter, chat="trips")  # names fold like filters do
    assert (deleted.version, deleted.removed, deleted.purged) == (3, 3, 0)
    assert ids(searcher) == before - {"job-a-0", "job-a-2", "job-a-4"}
    assert ids(searcher, chat=["Trips"]) == set()
    # The older version still has them; compare and the list say what went.
    assert ids(searcher, version=2) == before
    compared = versions.compare(VersionsCompareRequested(**WHERE, base=2, other=3))
    assert (compared.added, compared.removed) == (0, 3)
    assert compared.removed_ids == ["job-a-0", "job-a-2", "job-a-4"]
    listed = versions.list(VersionsListRequested(**WHERE)).versions
    assert (listed[-1].messages, listed[-1].added, listed[-1].removed) == (3, 0, 3)
    assert listed[-1].message == "v3: deleted chat: 3 messages removed"
    collection = Collection(layout.collection("org1", "coll1"))
    assert not collection.git.is_dirty()
    assert "Trips" not in collection.git.log_messages()[0]  # commit messages name no one


def test_a_sender_is_found_by_display_name_or_sender_id(two_uploads, deleter, searcher):
    assert delete(deleter, sender="U1").removed == 2
    assert ids(searcher, sender=["sam"]) == set()
    assert delete(deleter, sender="lea").removed == 1  # accents and case fold
    assert ids(searcher) == {"job-a-1", "job-a-2", "job-b-0"}


def test_deleting_an_upload_removes_what_its_job_added(two_uploads, deleter, searcher):
    deleted = delete(deleter, job_id="job-b")
    # job-b added one message; the other was already there from job-a and stays.
    assert deleted.removed == 1
    assert "job-b-0" not in ids(searcher) and "job-a-1" in ids(searcher)


def test_search_context_and_top_k_skip_deleted_messages(two_uploads, deleter, searcher):
    delete(deleter, sender="Marta")
    answer = searcher.search(
        SearchRequested(**WHERE, query="invoice", mode="keyword", k=5, context=3)
    )
    assert [hit.message.message_id for hit in answer.hits] == ["job-a-3"]  # not Marta's
    assert answer.hits[0].context == []  # its chat's other message was Marta's
    answer = searcher.search(SearchRequested(**WHERE, query="lisbon", mode="keyword", context=1))
    # In "Trips" Marta's message sat between the hit and Léa's: it is passed over.
    assert [m.message_id for m in answer.hits[0].context] == ["job-a-4"]
    # Semantic top-k is exact over the live messages: k = 1 still finds one.
    top = searcher.search(SearchRequested(**WHERE, vector=np.ones(16).tolist(), k=1))
    assert len(top.hits) == 1 and top.hits[0].message.sender != "Marta"
    assert top.next_offset == 1


def test_deleting_again_changes_nothing_and_a_redelivery_gets_the_same_answer(
    two_uploads, deleter, layout
):
    request = MessagesDeleteRequested(**WHERE, chat="Finance")
    first = deleter.delete(request)
    redelivered = deleter.delete(request)  # the same message again
    assert (redelivered.version, redelivered.removed) == (first.version, first.removed) == (3, 2)
    again = delete(deleter, chat="Finance")  # a new request for what is already deleted
    assert (again.version, again.removed) == (first.version, 0)
    assert Collection(layout.collection("org1", "coll1")).manifest().version == first.version


def test_restoring_an_older_version_brings_deleted_messages_back(
    two_uploads, deleter, searcher, versions
):
    before = ids(searcher)
    delete(deleter, chat="Trips")
    restored = versions.restore(VersionRestoreRequested(**WHERE, version=2))
    assert (restored.added, restored.removed) == (3, 0)
    assert ids(searcher) == before


def test_uploading_deleted_messages_again_brings_them_back(
    two_uploads, deleter, searcher, run_messages, published, versions
):
    job_a, _ = two_uploads
    delete(deleter, chat="Trips")
    run_messages([m.model_copy(update={"job_id": "job-a2"}) for m in job_a.all_messages()])
    assert ids(searcher, chat=["Trips"]) == {"job-a-0", "job-a-2", "job-a-4"}
    [announced] = [u for u in published.of(IndexUpdated) if u.job_id == "job-a2"]
    assert (announced.stats["added"], announced.stats["restored"]) == (0, 3)
    listed = versions.list(VersionsListRequested(**WHERE)).versions
    assert (listed[-1].added, listed[-1].removed, listed[-1].messages) == (3, 0, 6)


@pytest.mark.parametrize(
    "selector, code",
    [
        ({"chat": "Nowhere"}, "chat_not_found"),
        ({"sender": "Nobody"}, "sender_not_found"),
        ({"job_id": "job-zzz"}, "upload_not_found"),
        ({"job_id": "../job-a"}, "upload_not_found"),
    ],
)
def test_unknown_names_are_refused_and_change_nothing(two_uploads, deleter, layout, selector, code):
    with pytest.raises(PermanentError) as refused:
        delete(deleter, **selector)
    assert refused.value.code == code
    assert Collection(layout.collection("org1", "coll1")).manifest().version == 2


@pytest.mark.parametrize(
    "where",
    [
        {"org_id": "org2", "collection_id": "coll1"},
        {"org_id": "..", "collection_id": "coll1"},
        {"org_id": "org1", "collection_id": "nope"},
    ],
)
def test_another_orgs_or_a_missing_collection_is_not_found(two_uploads, deleter, where):
    with pytest.raises(PermanentError) as refused:
        deleter.delete(MessagesDeleteRequested(**where, chat="Trips"))
    assert refused.value.code == "not_found"


def test_a_request_names_exactly_one_selector():
    with pytest.raises(ValueError):
        MessagesDeleteRequested(**WHERE)
    with pytest.raises(ValueError):
        MessagesDeleteRequested(**WHERE, chat="a", sender="b")


def test_the_rpc_handler_routes_deletions(two_uploads, searcher, deleter):
    handle = search_handler(searcher, deleter=deleter)
    assert handle(MessagesDeleteRequested(**WHERE, chat="Trips"), DELIVERY).removed == 3


@pytest.mark.parametrize("senders", [["user0"], ["user0", "user1"]])
@pytest.mark.parametrize("k", [1, 7, 60, 100])
def test_semantic_top_k_with_deletions_is_exact(
    make_job, run_messages, deleter, searcher, senders, k
):
    job = make_job("job-a", [f"m{i:03d}" for i in range(150)], seed=5)
    run_messages(job.all_messages())
    for sender in senders:  # sender user<seq % 3>: a third of the messages each
        delete(deleter, sender=sender)
    live = [m.message_id for m in job.messages if m.sender not in senders]
    # Hubness was computed when the segment was sealed, over every row, deleted ones too.
    ids = list(job.vectors)
    hub = dict(
        zip(ids, hubness_reference.hubness(np.stack(list(job.vectors.values()))), strict=True)
    )
    segment = (live, np.stack([job.vectors[i] for i in live]), np.array([hub[i] for i in live]))
    rng = np.random.default_rng(k)
    for _ in range(5):
        query = rng.standard_normal(16).astype(np.float32)
        query /= np.linalg.norm(query)
        expected = [mid for mid, _ in hubness_reference.ranked([segment], query, k)]
        answer = searcher.search(SearchRequested(**WHERE, vector=query.tolist(), k=k, context=0))
        assert [hit.message.message_id for hit in answer.hits] == expected
