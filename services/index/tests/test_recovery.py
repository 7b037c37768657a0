"""A crash in the middle of a seal leaves the previous version; the redelivered job redoes it."""

from __future__ import annotations

import numpy as np
import pytest

from chatlens.index.storage import atomic
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.gitrepo import GitRepo
from chatlens.shared.schemas import IndexUpdated, SearchRequested


class Crash(Exception):
    pass


def _crash(*args, **kwargs):
    raise Crash()


@pytest.fixture
def sealed_v1(make_job, run_messages):
    run_messages(make_job("job-a", ["a1", "a2", "a3"]).all_messages())


def test_a_crash_between_the_manifest_and_the_commit_is_rolled_back_on_open(
    sealed_v1, layout, make_job, run_messages, published, ingestor, searcher, monkeypatch
):
    job_b = make_job("job-b", ["b1", "b2"], seed=5)
    monkeypatch.setattr(GitRepo, "commit_all", _crash)
    with pytest.raises(Crash):
        run_messages(job_b.all_messages())
    c = Collection(layout.collection("org1", "coll1"))
    # The crash left version 2's manifest and segment in the tree, uncommitted.
    assert c.manifest().version == 2 and c.git.is_dirty()
    assert c.segment_path("job-job-b").exists()
    # Readers only ever see the committed version meanwhile.
    vector = [1.0] + [0.0] * 15
    answer = searcher.search(SearchRequested(org_id="org1", collection_id="coll1", vector=vector))
    assert answer.version == 1

    monkeypatch.undo()
    assert c.recover() is True
    assert c.manifest().version == 1 and not c.git.is_dirty()
    assert not c.segment_path("job-job-b").exists()

    run_messages(job_b.all_messages()[-1:])  # the unacked message is redelivered
    assert c.manifest().version == 2
    assert c.manifest().jobs == {"job-a": 1, "job-b": 2}
    assert [u.version for u in published.of(IndexUpdated)] == [1, 2]
    assert set(c.git.tags()) == {"v0", "v1", "v2"}


def test_the_same_ingestor_rolls_back_before_its_next_write(
    sealed_v1, layout, make_job, run_messages, published, monkeypatch
):
    job_b = make_job("job-b", ["b1", "b2"], seed=5)
    # Crash while writing the manifest, after the segment files were written.
    real_write_json = atomic.write_json

    def crash_on_manifest(path, value):
        if path.name == "manifest.json":
            raise Crash()
        real_write_json(path, value)

    monkeypatch.setattr(atomic, "write_json", crash_on_manifest)
    with pytest.raises(Crash):
        run_messages(job_b.all_messages())
    monkeypatch.undo()

    run_messages(job_b.all_messages()[-1:])
    c = Collection(layout.collection("org1", "coll1"))
    assert c.manifest().version == 2 and not c.git.is_dirty()
    assert [u.version for u in published.of(IndexUpdated)] == [1, 2]


def test_a_crash_between_the_commit_and_the_tag_is_tagged_on_open(
    sealed_v1, layout, make_job, run_messages, monkeypatch
):
    monkeypatch.setattr(GitRepo, "tag", _crash)
    with pytest.raises(Crash):
        run_messages(make_job("job-b", ["b1"], seed=5).all_messages())
    monkeypatch.undo()
    c = Collection(layout.collection("org1", "coll1"))
    assert "v2" not in c.git.tags()
    assert c.recover() is False
    assert "v2" in c.git.tags()


def test_a_collection_that_failed_to_be_created_leaves_nothing(
    layout, make_job, run_messages, monkeypatch
):
    monkeypatch.setattr(GitRepo, "commit_all", _crash)
    with pytest.raises(Crash):
        run_messages(make_job("job-a", ["a1"]).all_messages())
    monkeypatch.undo()
    org_dir = layout.root / "collections" / "org1"
    assert list(org_dir.iterdir()) == []
    run_messages(make_job("job-a", ["a1"]).all_messages()[-1:])
    assert Collection(layout.collection("org1", "coll1")).manifest().version == 1


def test_unit_vectors_survive_the_round_trip(sealed_v1, layout):
    import faiss

    c = Collection(layout.collection("org1", "coll1"))
    index = faiss.read_index(str(c.segment_path("job-job-a") / "vectors.faiss"))
    stored = index.reconstruct_n(0, index.ntotal)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)
