"""Version history: list, compare, restore as a new commit, and their refusals."""

from __future__ import annotations

import numpy as np
import pytest

from chatlens.index.handlers import search_handler
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.collection import Collection
from chatlens.index.versions import Versions
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    SearchRequested,
    VersionRestoreRequested,
    VersionsCompareRequested,
    VersionsListRequested,
)

WHERE = {"org_id": "org1", "collection_id": "coll1"}
DELIVERY = Delivery(queue="index.rpc", redelivered=False, delivery_count=0, correlation_id=None)


@pytest.fixture
def versions(layout, segments, ingestor) -> Versions:
    return Versions(ManifestReader(layout), segments, ingestor)


@pytest.fixture
def three_versions(make_job, run_messages):
    run_messages(make_job("job-a", ["a1", "a2", "a3"]).all_messages())
    run_messages(make_job("job-b", ["b1", "b2"], seed=1).all_messages())
    # An overlapping export: a3 is already there, c1 is new.
    run_messages(make_job("job-c", ["a3", "c1"], seed=2).all_messages())


def all_ids(searcher, version=None) -> set[str]:
    answer = searcher.search(
        SearchRequested(**WHERE, vector=np.ones(16).tolist(), k=100, version=version, context=0)
    )
    return {hit.message.message_id for hit in answer.hits}


def test_the_list_has_every_version_with_its_message_counts(three_versions, versions):
    listed = versions.list(VersionsListRequested(**WHERE)).versions
    assert [v.version for v in listed] == [0, 1, 2, 3]
    assert [(v.messages, v.added, v.removed) for v in listed] == [
        (0, 0, 0),
        (3, 3, 0),
        (5, 2, 0),
        (6, 1, 0),
    ]
    assert listed[0].message == "v0: collection created"
    assert listed[3].message.startswith("v3: job job-c: 1 messages added, 1 duplicates skipped")
    assert all(v.committed_at.tzinfo is not None for v in listed)


def test_compare_names_what_was_added_and_removed(three_versions, versions):
    forward = versions.compare(VersionsCompareRequested(**WHERE, base=1, other=3))
    assert (forward.added, forward.removed) == (3, 0)
    assert forward.added_ids == ["b1", "b2", "c1"]
    backward = versions.compare(VersionsCompareRequested(**WHERE, base=3, other=1, limit=1))
    assert (backward.added, backward.removed, backward.removed_ids) == (0, 3, ["b1"])


def test_restoring_an_old_version_makes_a_new_version_and_keeps_history(
    three_versions, versions, searcher, layout, make_job, run_messages
):
    restored = versions.restore(VersionRestoreRequested(**WHERE, version=1))
    assert (restored.version, restored.restored, restored.added, restored.removed) == (4, 1, 0, 3)
    assert all_ids(searcher) == {"a1", "a2", "a3"}
    assert all_ids(searcher, version=3) == {"a1", "a2", "a3", "b1", "b2", "c1"}
    listed = versions.list(VersionsListRequested(**WHERE)).versions
    assert listed[-1].version == 4 and listed[-1].message.startswith("v4: restored v1")
    assert (listed[-1].added, listed[-1].removed) == (0, 3)
    assert not Collection(layout.collection("org1", "coll1")).git.is_dirty()
    # Restoring forward again brings them back, as yet another version.
    assert versions.restore(VersionRestoreRequested(**WHERE, version=3)).version == 5
    assert all_ids(searcher) == {"a1", "a2", "a3", "b1", "b2", "c1"}
    # A later ingest builds on the restored content, and a sealed job is still known as sealed.
    run_messages(make_job("job-d", ["d1"], seed=4).all_messages())
    run_messages(make_job("job-b", ["b1", "b2"], seed=1).all_messages())
    assert all_ids(searcher) == {"a1", "a2", "a3", "b1", "b2", "c1", "d1"}


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda v: v.restore(VersionRestoreRequested(**WHERE, version=9)), "version_not_found"),
        (
            lambda v: v.compare(VersionsCompareRequested(**WHERE, base=1, other=9)),
            "version_not_found",
        ),
        (
            lambda v: v.list(VersionsListRequested(org_id="org2", collection_id="coll1")),
            "not_found",
        ),
        (
            lambda v: v.restore(
                VersionRestoreRequested(org_id="org2", collection_id="coll1", version=1)
            ),
            "not_found",
        ),
        (
            lambda v: v.restore(
                VersionRestoreRequested(org_id="../org1", collection_id="coll1", version=1)
            ),
            "not_found",
        ),
    ],
)
def test_bad_version_requests_are_refused_with_a_code(three_versions, versions, call, code):
    with pytest.raises(PermanentError) as refused:
        call(versions)
    assert refused.value.code == code


def test_the_rpc_handler_routes_version_requests(three_versions, versions, searcher):
    handle = search_handler(searcher, versions)
    assert len(handle(VersionsListRequested(**WHERE), DELIVERY).versions) == 4
    assert handle(VersionRestoreRequested(**WHERE, version=2), DELIVERY).version == 4
