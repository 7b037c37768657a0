"""Hubness: written with each sealed segment, and semantic search ranks by cosine less BETA x it,
so a line that sits near everything ("good point") no longer outranks the message asked for."""

from __future__ import annotations

import hubness_reference
import numpy as np
import pytest

from chatlens.index.search import Searcher
from chatlens.index.storage import hubness
from chatlens.index.storage.ann import build_index
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.hubness import BETA
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import SearchRequested

WHERE = {"org_id": "org1", "collection_id": "coll1"}


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


@pytest.mark.parametrize("rows", [1, 2, 11, 300])
def test_each_row_gets_the_mean_cosine_to_its_nearest_other_rows(rows):
    matrix = np.stack([unit(v) for v in np.random.default_rng(rows).standard_normal((rows, 16))])
    computed = hubness.compute(build_index(matrix, None), matrix)
    assert np.allclose(computed, hubness_reference.hubness(matrix), atol=1e-5)


def hub_and_answer(make_job):
    """A job whose message "hub" is a little closer to the query than "answer", but has ten
    near copies around it (small talk); everything else points elsewhere."""
    rng = np.random.default_rng(3)
    query = unit(rng.standard_normal(16))
    elsewhere = unit(rng.standard_normal(16))
    ids = ["answer", "hub", *[f"chatter{i}" for i in range(10)], *[f"other{i}" for i in range(20)]]
    job = make_job("job-a", ids)
    vectors = {
        "answer": unit(0.80 * query + 0.60 * elsewhere),
        "hub": unit(0.85 * query + 0.53 * unit(rng.standard_normal(16))),
    }
    for i in range(10):
        vectors[f"chatter{i}"] = unit(vectors["hub"] + 0.05 * rng.standard_normal(16))
    for i in range(20):
        vectors[f"other{i}"] = unit(-query + 0.3 * rng.standard_normal(16))
    job.vectors = vectors
    return job, query


def test_a_line_near_everything_ranks_below_the_answer(make_job, run_messages, searcher):
    job, query = hub_and_answer(make_job)
    run_messages(job.all_messages())
    assert float(job.vectors["hub"] @ query) > float(job.vectors["answer"] @ query)
    answer = searcher.search(SearchRequested(**WHERE, vector=query.tolist(), k=3, context=0))
    assert answer.hits[0].message.message_id == "answer"
    assert answer.hits[0].score == pytest.approx(
        float(job.vectors["answer"] @ query)
        - BETA * hubness_reference.hubness(np.stack(list(job.vectors.values())))[0],
        abs=1e-5,
    )
    # The correction orders the hits; each still reports its cosine as its similarity, the
    # scale a relevance floor (the answers' answer_min_score) is calibrated on.
    for hit in answer.hits:
        cosine = float(job.vectors[hit.message.message_id] @ query)
        assert hit.semantic_score == pytest.approx(cosine, abs=1e-5)


def test_a_segment_sealed_without_hubness_ranks_by_cosine_until_it_is_computed(
    make_job, run_messages, layout
):
    job, query = hub_and_answer(make_job)
    run_messages(job.all_messages())
    collection = Collection(layout.collection("org1", "coll1"))
    for entry in collection.manifest().segments:  # as a segment sealed before the file existed
        (collection.segment_path(entry.id) / hubness.HUBNESS).unlink()
    searcher = Searcher(layout, SegmentCache(8))
    answer = searcher.search(SearchRequested(**WHERE, vector=query.tolist(), k=3, context=0))
    cosines = {mid: float(vector @ query) for mid, vector in job.vectors.items()}
    best = sorted(cosines, key=lambda mid: -cosines[mid])[:3]
    assert [hit.message.message_id for hit in answer.hits] == best
    assert "answer" not in best  # the small talk wins, as it did
    assert answer.hits[0].score == pytest.approx(cosines[best[0]], abs=1e-5)
    # The service's cache computes it for them as they are loaded: corrected from then on.
    corrected = Searcher(layout, SegmentCache(8, derived=layout.derived))
    again = corrected.search(SearchRequested(**WHERE, vector=query.tolist(), k=3, context=0))
    assert again.hits[0].message.message_id == "answer"


@pytest.mark.parametrize("ann", [None, "hnsw"])
def test_a_segment_sealed_without_its_hubness_gets_the_same_one_when_loaded(
    tmp_path, ann, monkeypatch
):
    """An older segment (no hubness.npy) gets exactly what sealing writes: a flat one as it is
    loaded, an HNSW one on the cache's background thread; kept outside the folder and read back
    at the next load."""
    import time

    from chatlens.index.storage.ann import AnnConfig
    from chatlens.index.storage.segment import Segment, write_segment

    from .conftest import make_message

    rows = 60
    matrix = np.stack([unit(v) for v in np.random.default_rng(5).standard_normal((rows, 16))])
    messages = [make_message(f"m{n}", n) for n in range(rows)]
    path = tmp_path / "segments" / "s1"
    config = AnnConfig(min_vectors=10) if ann else None
    write_segment(path, messages, [m.message_id for m in messages], matrix, config)
    sealed = np.load(path / hubness.HUBNESS)
    (path / hubness.HUBNESS).unlink()  # as a segment sealed before the file existed
    listed = sorted(p.name for p in path.iterdir())
    cache = tmp_path / "cache"

    assert Segment.load(path).hubness is None  # no cache given: ranked as before
    segment = SegmentCache(4, derived=cache).get(path)
    deadline = time.monotonic() + 30
    while segment.hubness is None and time.monotonic() < deadline:
        assert ann, "a flat segment's hubness is there as soon as it is loaded"
        time.sleep(0.05)
    assert segment.hubness is not None
    assert np.allclose(segment.hubness, sealed, atol=1e-6)
    assert [p.suffix for p in (cache / "hubness").iterdir()] == [".npy"]
    assert sorted(p.name for p in path.iterdir()) == listed  # the folder is untouched

    def computed_again(*_args):
        raise AssertionError("computed again although the cache holds it")

    monkeypatch.setattr(hubness, "compute", computed_again)
    again = hubness.derived_for(path / "vectors.faiss", segment.index, cache / "hubness")
    assert np.array_equal(again, segment.hubness)
