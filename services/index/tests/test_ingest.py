"""Sealing jobs into versions: tags, commit messages, de-duplication, redelivery, arrival order."""

from __future__ import annotations

import pytest

from chatlens.index.storage.collection import Collection
from chatlens.index.storage.gitrepo import GitRepo
from chatlens.index.storage.segment import Segment
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import IndexUpdated, JobProgressed


def collection(layout, org="org1", coll="coll1") -> Collection:
    return Collection(layout.collection(org, coll))


def stored_ids(layout, org="org1", coll="coll1") -> list[str]:
    c = collection(layout, org, coll)
    return [
        m.message_id
        for entry in c.manifest().segments
        for m in Segment.load(c.segment_path(entry.id)).messages
    ]


def test_two_jobs_make_versions_1_and_2_with_tags_and_commit_messages(
    layout, make_job, run_messages, published
):
    run_messages(make_job("job-a", ["a1", "a2", "a3", "a4", "a5"]).all_messages())
    run_messages(make_job("job-b", ["b1", "b2"], seed=1).all_messages())

    c = collection(layout)
    manifest = c.manifest()
    assert manifest.version == 2
    assert manifest.jobs == {"job-a": 1, "job-b": 2}
    assert [(s.id, s.job_id, s.messages, s.vectors) for s in manifest.segments] == [
        ("job-job-a", "job-a", 5, 5),
        ("job-job-b", "job-b", 2, 2),
    ]
    assert set(c.git.tags()) == {"v0", "v1", "v2"}
    assert c.manifest_at(1).segments == manifest.segments[:1]
    subjects = [m.splitlines()[0] for m in c.git.log_messages()]
    assert subjects == [
        "v2: job job-b: 2 messages added, 0 duplicates skipped",
        "v1: job job-a: 5 messages added, 0 duplicates skipped",
        "v0: collection created",
    ]
    assert not c.git.is_dirty()

    updates = published.of(IndexUpdated)
    assert [(u.job_id, u.version) for u in updates] == [("job-a", 1), ("job-b", 2)]
    assert updates[0].stats == {
        "added": 5,
        "duplicates": 0,
        "messages": 5,
        "embedded": 5,
        "parsed": 5,
        "model": "test-model",
    }
    progress = published.of(JobProgressed)
    assert [(p.job_id, p.stage, p.done, p.total) for p in progress] == [
        ("job-a", "indexing", 2, 2),
        ("job-b", "indexing", 1, 1),
    ]
    assert not (layout.root / "staging" / "org1" / "coll1" / "job-a").exists()


def test_the_repository_is_configured_to_fsync_with_a_fixed_author(layout, make_job, run_messages):
    run_messages(make_job("job-a", ["a1"]).all_messages())
    git = GitRepo(layout.collection("org1", "coll1"))
    config = {
        key: git._run("config", "--get", key).stdout.decode().strip()
        for key in ("core.fsync", "core.fsyncMethod", "user.name")
    }
    assert config == {
        "core.fsync": "all",
        "core.fsyncMethod": "fsync",
        "user.name": "chatlens-index",
    }
    author = git._run("log", "-1", "--format=%an <%ae>").stdout.decode().strip()
    assert author == "chatlens-index <index@chatlens.invalid>"


def test_messages_already_in_the_collection_are_skipped(layout, make_job, run_messages, published):
    run_messages(make_job("job-a", ["m1", "m2", "m3"]).all_messages())
    run_messages(make_job("job-b", ["m2", "m3", "m4", "m5"], seed=2, first_seq=1).all_messages())

    assert sorted(stored_ids(layout)) == ["m1", "m2", "m3", "m4", "m5"]
    second = published.of(IndexUpdated)[1]
    counts = (second.stats["added"], second.stats["duplicates"], second.stats["messages"])
    assert counts == (2, 2, 4)
    assert collection(layout).manifest().segments[1].vectors == 2


def test_a_job_with_nothing_new_still_gets_a_version_but_no_segment(
    layout, make_job, run_messages, published
):
    run_messages(make_job("job-a", ["m1", "m2"]).all_messages())
    run_messages(make_job("job-again", ["m1", "m2"]).all_messages())

    manifest = collection(layout).manifest()
    assert manifest.version == 2 and len(manifest.segments) == 1
    assert published.of(IndexUpdated)[1].stats["duplicates"] == 2


def test_messages_repeated_within_a_job_are_kept_once(layout, make_job, run_messages, published):
    job = make_job("job-a", ["m1", "m2", "m3", "m1"], batch_size=2)
    run_messages(job.all_messages())
    assert sorted(stored_ids(layout)) == ["m1", "m2", "m3"]
    assert published.of(IndexUpdated)[0].stats["duplicates"] == 1


def test_redelivered_batches_and_finish_make_no_second_version(
    layout, make_job, run_messages, published
):
    job = make_job("job-a", ["m1", "m2", "m3", "m4", "m5", "m6"])
    batches = job.batches()
    run_messages([batches[0], batches[0], batches[1], job.finished()])
    run_messages([batches[1], job.finished(), batches[0], job.finished()])

    c = collection(layout)
    assert c.manifest().version == 1
    assert sorted(stored_ids(layout)) == ["m1", "m2", "m3", "m4", "m5", "m6"]
    # Each redelivered EmbeddingFinished is answered again with the recorded version.
    assert [u.version for u in published.of(IndexUpdated)] == [1, 1, 1]
    assert published.of(IndexUpdated)[2].stats == published.of(IndexUpdated)[0].stats
    assert set(c.git.tags()) == {"v0", "v1"}
    # A late batch of a sealed job is dropped, not staged again.
    assert not (layout.root / "staging" / "org1" / "coll1" / "job-a").exists()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrival_order_does_not_matter(layout, make_job, run_messages, published, seed):
    job = make_job("job-a", [f"m{i}" for i in range(10)], batch_size=3)
    messages = job.all_messages(shuffle_seed=seed)
    run_messages(messages)
    assert collection(layout).manifest().version == 1
    assert sorted(stored_ids(layout)) == sorted(f"m{i}" for i in range(10))
    assert len(published.of(IndexUpdated)) == 1


def test_batches_after_the_finish_still_seal(layout, make_job, run_messages, published):
    job = make_job("job-a", ["m1", "m2", "m3", "m4", "m5"])
    run_messages([job.finished()])
    assert collection(layout).exists() is False
    run_messages(job.batches())
    assert [u.version for u in published.of(IndexUpdated)] == [1]


def test_segment_messages_are_in_seq_order(layout, make_job, run_messages):
    job = make_job("job-a", ["c", "a", "b"], batch_size=1)
    run_messages(list(reversed(job.all_messages())))
    assert stored_ids(layout) == ["c", "a", "b"]  # seq 0, 1, 2 whatever the arrival order


def test_a_crash_after_the_commit_but_before_the_announcement_is_announced_on_redelivery(
    layout, make_job, run_messages, published, ingestor, monkeypatch
):
    job = make_job("job-a", ["m1", "m2", "m3"])
    messages = job.all_messages()

    def broker_down(message):
        raise ConnectionError("broker went away")

    monkeypatch.setattr(ingestor, "publish", broker_down)
    with pytest.raises(ConnectionError):
        run_messages(messages)
    monkeypatch.setattr(ingestor, "publish", published.append)
    run_messages(messages[-1:])  # the unacked message comes back

    assert collection(layout).manifest().version == 1
    assert [u.version for u in published.of(IndexUpdated)] == [1]
    assert not (layout.root / "staging" / "org1" / "coll1" / "job-a").exists()


def test_a_batch_of_the_wrong_dimension_is_refused(make_job, ingestor):
    job = make_job("job-a", ["m1"], dim=8)
    with pytest.raises(PermanentError) as refused:
        ingestor.on_batch(job.batches()[0])
    assert refused.value.code == "invalid_vector"


def test_a_batch_with_a_vector_for_no_message_is_refused(make_job, ingestor):
    batch = make_job("job-a", ["m1", "m2"]).batches()[0]
    bad = batch.model_copy(update={"vector_ids": ["m1", "zzz"]})
    with pytest.raises(PermanentError):
        ingestor.on_batch(bad)


def test_an_id_that_would_leave_its_folder_is_refused(make_job, ingestor, layout):
    batch = make_job("job-a", ["m1"], org_id="..", collection_id="x").batches()[0]
    with pytest.raises(PermanentError):
        ingestor.on_batch(batch)
    assert not (layout.root / "staging").exists()
