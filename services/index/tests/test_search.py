"""Search: exact merged top-k, context, pinned versions, errors, and tenancy."""

from __future__ import annotations

import hubness_reference
import numpy as np
import pytest

from chatlens.index.search import merge_top_k
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.segment import Segment
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import SearchRequested


def from_ids(hits) -> list[str]:
    return [hit.message.message_id for hit in hits]


def request(vector, **kwargs) -> SearchRequested:
    fields = {"org_id": "org1", "collection_id": "coll1", "vector": list(map(float, vector))}
    return SearchRequested(**{**fields, **kwargs})


def test_merged_top_k_over_three_segments_equals_brute_force_with_hubness(
    make_job, run_messages, searcher, layout
):
    jobs = [
        make_job(f"job-{n}", [f"s{n}-{i}" for i in range(size)], seed=n)
        for n, size in enumerate((40, 7, 25))
    ]
    for job in jobs:
        run_messages(job.all_messages())
    # Each job is a segment: a hit's score is its cosine less BETA x its hubness in its segment.
    segments = []
    for job in jobs:
        rows = np.stack([job.vectors[mid] for mid in job.vectors])
        segments.append((list(job.vectors), rows, hubness_reference.hubness(rows)))
    rng = np.random.default_rng(42)
    for _ in range(20):
        query = rng.standard_normal(segments[0][1].shape[1]).astype(np.float32)
        k = int(rng.integers(1, 50))
        answer = searcher.search(request(query, k=k, context=0))
        best = hubness_reference.ranked(segments, query / np.linalg.norm(query), k)
        assert from_ids(answer.hits) == [mid for mid, _ in best]
        assert np.allclose([h.score for h in answer.hits], [s for _, s in best], atol=1e-5)
    assert answer.version == 3


def test_merge_top_k_takes_the_best_across_lists_in_order():
    lists = [[(0.9, 0), (0.1, 1)], [], [(0.95, 0), (0.5, 1), (0.2, 2)]]
    assert merge_top_k(lists, 3) == [(0.95, 2, 0), (0.9, 0, 0), (0.5, 2, 1)]
    assert merge_top_k(lists, 10)[-1] == (0.1, 0, 1)


def test_a_hit_comes_with_its_neighbours_in_the_same_chat(make_job, run_messages, searcher):
    general = make_job("job-a", [f"g{i}" for i in range(8)], chat="general")
    random_chat = make_job("job-a", [f"r{i}" for i in range(8)], chat="random", seed=9)
    # One job holding two chats whose seq numbers interleave: g0 r0 g1 r1 ...
    general.messages = [m.model_copy(update={"seq": 2 * m.seq}) for m in general.messages] + [
        m.model_copy(update={"seq": 2 * m.seq + 1}) for m in random_chat.messages
    ]
    general.vectors = {**general.vectors, **random_chat.vectors}
    run_messages(general.all_messages())

    answer = searcher.search(request(general.vectors["g4"], k=1, context=2))
    hit = answer.hits[0]
    assert hit.message.message_id == "g4"
    assert [m.message_id for m in hit.context] == ["g2", "g3", "g5", "g6"]
    edge = searcher.search(request(general.vectors["g0"], k=1, context=3)).hits[0]
    assert [m.message_id for m in edge.context] == ["g1", "g2", "g3"]


def test_a_pinned_version_searches_that_version(make_job, run_messages, searcher):
    first = make_job("job-a", ["a1", "a2", "a3"])
    second = make_job("job-b", ["b1", "b2", "b3"], seed=1)
    run_messages(first.all_messages())
    run_messages(second.all_messages())
    target = second.vectors["b2"]

    latest = searcher.search(request(target, k=1))
    assert (latest.version, from_ids(latest.hits)) == (2, ["b2"])
    pinned = searcher.search(request(target, k=10, version=1))
    assert pinned.version == 1
    assert sorted(from_ids(pinned.hits)) == ["a1", "a2", "a3"]
    assert searcher.search(request(target, version=0)).hits == []


def test_the_searcher_sees_a_new_version_once_it_is_committed(make_job, run_messages, searcher):
    run_messages(make_job("job-a", ["a1"]).all_messages())
    assert searcher.search(request(np.ones(16))).version == 1
    run_messages(make_job("job-b", ["b1"], seed=1).all_messages())
    assert searcher.search(request(np.ones(16))).version == 2


def test_an_empty_collection_has_no_hits(make_job, run_messages, searcher):
    run_messages(make_job("job-a", []).all_messages())  # a job whose export held no message
    answer = searcher.search(request(np.ones(16)))
    assert (answer.version, answer.hits) == (1, [])


def test_a_segment_may_hold_messages_without_vectors(make_job, run_messages, searcher, layout):
    job = make_job("job-a", ["a1", "a2", "a3"])
    del job.vectors["a2"]  # a system message: stored for context, never a hit
    run_messages(job.all_messages())
    hits = searcher.search(request(job.vectors["a1"], k=5, context=1)).hits
    assert sorted(from_ids(hits)) == ["a1", "a3"]
    assert [m.message_id for m in hits[0].context] == ["a2"]
    segment = Segment.load(Collection(layout.collection("org1", "coll1")).segment_path("job-job-a"))
    assert segment.index.ntotal == 2 and len(segment.messages) == 3


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"collection_id": "nope"}, "not_found"),
        ({"collection_id": "../org1/coll1"}, "not_found"),
        ({"version": 7}, "version_not_found"),
        ({"vector": [1.0] * 15}, "invalid_vector"),
        ({"vector": [0.0] * 16}, "invalid_vector"),
        ({"vector": [float("nan")] * 16}, "invalid_vector"),
    ],
)
def test_bad_requests_are_refused_with_a_code(make_job, run_messages, searcher, fields, code):
    run_messages(make_job("job-a", ["a1"]).all_messages())
    with pytest.raises(PermanentError) as refused:
        searcher.search(request(**{"vector": np.ones(16), **fields}))
    assert refused.value.code == code


def test_another_orgs_collection_of_the_same_id_is_not_found(make_job, run_messages, searcher):
    run_messages(
        make_job("job-a", ["secret"], org_id="org-a", collection_id="shared-id").all_messages()
    )
    with pytest.raises(PermanentError) as refused:
        searcher.search(request(np.ones(16), org_id="org-b", collection_id="shared-id"))
    assert refused.value.code == "not_found"
    mine = searcher.search(request(np.ones(16), org_id="org-a", collection_id="shared-id"))
    assert from_ids(mine.hits) == ["secret"]


def test_searches_during_seals_see_whole_versions_only(make_job, run_messages, searcher):
    import threading

    run_messages(make_job("job-0", ["x0"]).all_messages())
    seen, errors, done = [], [], threading.Event()

    def search_forever():
        while not done.is_set():
            try:
                answer = searcher.search(request(np.ones(16), k=100))
                seen.append((answer.version, len(answer.hits)))
            except Exception as exc:  # noqa: BLE001 - collected and asserted on below
                errors.append(exc)

    reader = threading.Thread(target=search_forever)
    reader.start()
    try:
        for n in range(1, 6):
            run_messages(
                make_job(f"job-{n}", [f"x{n}-{i}" for i in range(3)], seed=n).all_messages()
            )
    finally:
        done.set()
        reader.join()
    assert errors == [] and seen
    # Version v holds 1 + 3 * (v - 1) messages, and versions never go backwards.
    assert all(hits == 1 + 3 * (version - 1) for version, hits in seen)
    assert [v for v, _ in seen] == sorted(v for v, _ in seen)


def test_a_search_across_versions_answers_each_version_and_fuses_them(
    make_job, run_messages, searcher
):
    first = make_job("job-a", ["a1", "a2", "a3"])
    second = make_job("job-b", ["b1", "b2", "b3"], seed=1)
    run_messages(first.all_messages())
    run_messages(second.all_messages())
    target = second.vectors["b2"]

    answer = searcher.search(request(target, k=2, versions=[1, 2, 1]))
    assert [v.version for v in answer.by_version] == [1, 2]  # each version once, in order
    one, two = (searcher.search(request(target, k=2, version=v)) for v in (1, 2))
    assert [from_ids(v.hits) for v in answer.by_version] == [from_ids(one.hits), from_ids(two.hits)]
    # Version 2 holds version 1's messages too: a message both find ranks before one found once.
    assert from_ids(two.hits)[0] == "b2"
    fused = {hit.message.message_id: hit for hit in answer.hits}
    assert len(fused) == len(answer.hits)  # each message once
    for hit in answer.hits:
        expected = [
            v for v, found in ((1, one), (2, two)) if hit.message.message_id in from_ids(found.hits)
        ]
        assert hit.found_in == expected
        ranks = [
            from_ids(found.hits).index(hit.message.message_id) + 1
            for found in (one, two)
            if hit.message.message_id in from_ids(found.hits)
        ]
        assert hit.score == pytest.approx(sum(1 / (60 + rank) for rank in ranks))
    assert [hit.score for hit in answer.hits] == sorted(
        (h.score for h in answer.hits), reverse=True
    )
    assert answer.version == 2 and answer.versions == {"coll1": 2}


def test_fusing_versions_puts_agreement_first():
    from chatlens.index.ranking import fuse_versions
    from chatlens.shared.schemas import ChatMessage, SearchHit, VersionHits

    def hit(mid):
        message = ChatMessage.model_validate(
            {
                "message_id": mid,
                "platform": "whatsapp",
                "chat": "c",
                "sender": "s",
                "sent_at": "2025-01-01T00:00:00Z",
                "tz_assumption": "UTC",
                "text": mid,
                "seq": 0,
                "source_file": "a.txt",
            }
        )
        return SearchHit(message=message, score=1.0)

    merged = fuse_versions(
        [
            VersionHits(version=1, hits=[hit("a"), hit("b")]),
            VersionHits(version=2, hits=[hit("b"), hit("c")]),
        ]
    )
    assert [(m.message.message_id, m.found_in) for m in merged] == [
        ("b", [1, 2]),
        ("a", [1]),
        ("c", [2]),
    ]
