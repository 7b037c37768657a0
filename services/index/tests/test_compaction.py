"""Compaction: small segments merged into one in a new version, search unchanged, tombstoned
messages dropped, old versions still searchable, crash-safe, and run by a background thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from prometheus_client import REGISTRY

from chatlens.index.compaction import CompactionConfig, Compactor
from chatlens.index.storage import atomic
from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.gitrepo import GitRepo
from chatlens.shared.schemas import IndexUpdated, SearchFilters, SearchRequested

CONFIG = CompactionConfig(max_small_segments=3, small_segment_messages=50, interval_s=0.05)
SIZES = (12, 7, 30, 9, 60)  # the 60-message segment is not small: it stays as it is
WORDS = (
    "invoice offsite Lisbon Porto budget flight hotel agenda team dinner contract draft "
    "review call Monday Friday venue train slides client"
).split()


class Crash(Exception):
    pass


@pytest.fixture
def five_jobs(make_text_job, run_messages):
    # Texts of varied words and lengths, so that BM25 scores rarely tie.
    rng = np.random.default_rng(3)
    jobs = []
    for n, size in enumerate(SIZES):
        rows = [
            {
                "text": " ".join(rng.choice(WORDS, size=int(rng.integers(2, 12)))),
                "chat": f"chat{i % 2}",
                "sender": f"person{i % 5}",
            }
            for i in range(size)
        ]
        job = make_text_job(f"j{n}", rows, seed=n, first_seq=0)
        run_messages(job.all_messages())
        jobs.append(job)
    return jobs


@pytest.fixture
def compactor(layout, segments, ingestor) -> Compactor:
    return Compactor(layout, segments, ingestor, CONFIG)


def collection(layout) -> Collection:
    return Collection(layout.collection("org1", "coll1"))


def answers(searcher, version=None) -> list:
    """What a range of searches answer: ids, rounded scores and context, for every mode."""
    rng = np.random.default_rng(7)
    out = []
    for n in range(8):
        vector = [float(x) for x in rng.standard_normal(16)]
        for mode, filters in (
            ("semantic", SearchFilters()),
            ("keyword", SearchFilters()),
            ("hybrid", SearchFilters()),
            ("semantic", SearchFilters(chat=["chat1"], sender=["person2"])),
        ):
            answer = searcher.search(
                SearchRequested(
                    org_id="org1",
                    collection_id="coll1",
                    mode=mode,
                    vector=vector,
                    query="Lisbon invoice" if n % 2 else "offsite Porto",
                    k=15,
                    context=2,
                    filters=filters,
                    version=version,
                )
            )
            out.append(
                [
                    (
                        h.message.message_id,
                        pytest.approx(h.score, rel=1e-5),
                        [c.message_id for c in h.context],
                    )
                    for h in answer.hits
                ]
            )
    return out


def test_small_segments_merge_into_one_new_version_and_search_is_unchanged(
    five_jobs, compactor, searcher, layout
):
    before = answers(searcher)
    c = collection(layout)
    old = c.manifest()
    new = compactor.compact("org1", "coll1")
    assert new is not None and new.version == old.version + 1
    # The four small segments became one, in the place of the first; the large one stays.
    assert [e.messages for e in new.segments] == [12 + 7 + 30 + 9, 60]
    assert new.jobs == old.jobs
    assert c.git.log_messages()[0].startswith(
        f"v{new.version}: compaction: 4 segments merged into {new.segments[0].id}, "
        "58 messages kept, 0 dropped"
    )
    assert answers(searcher) == before
    # The version before the compaction is still searchable, and answers the same.
    assert answers(searcher, version=old.version) == before
    # Nothing left to do: a second run changes nothing.
    assert compactor.compact("org1", "coll1") is None


def test_the_version_list_says_a_compaction_added_and_removed_nothing(
    five_jobs, compactor, layout, segments, ingestor
):
    from chatlens.index.manifests import ManifestReader
    from chatlens.index.versions import Versions
    from chatlens.shared.schemas import VersionsListRequested

    new = compactor.compact("org1", "coll1")
    listed = (
        Versions(ManifestReader(layout), segments, ingestor)
        .list(VersionsListRequested(org_id="org1", collection_id="coll1"))
        .versions
    )
    compacted = next(v for v in listed if v.version == new.version)
    assert (compacted.added, compacted.removed) == (0, 0)
    assert sum(v.added for v in listed) == sum(SIZES)


def test_tombstoned_messages_are_dropped_and_their_tombstones_cleared(
    five_jobs, compactor, searcher, layout
):
    c = collection(layout)
    # A deletion version (as the deletion RPC writes it): two messages of small segments and
    # one of the large segment tombstoned.
    deleted = ["j0-1", "j3-4", "j4-0"]
    manifest = c.manifest().model_copy(
        update={"version": c.manifest().version + 1, "tombstones": deleted}
    )
    atomic.write_json(c.path / manifest_file.FILENAME, manifest.to_json())
    c.git.commit_all(f"v{manifest.version}: 3 messages deleted")
    c.git.tag(f"v{manifest.version}")

    new = compactor.compact("org1", "coll1")
    assert new is not None
    assert new.segments[0].messages == 58 - 2
    assert new.tombstones == ["j4-0"]  # not in a merged segment: still tombstoned
    assert "56 messages kept, 2 dropped" in c.git.log_messages()[0]
    merged = searcher.segments.get(c.segment_path(new.segments[0].id))
    assert {"j0-1", "j3-4"}.isdisjoint(merged.message_ids)
    assert merged.index.ntotal == 56


def test_a_redelivered_job_is_still_recognised_after_compaction(
    five_jobs, compactor, run_messages, published, layout
):
    compactor.compact("org1", "coll1")
    version = collection(layout).manifest().version
    run_messages([five_jobs[1].finished()])
    assert collection(layout).manifest().version == version  # nothing written
    assert published.of(IndexUpdated)[-1].version == 2  # announced again with its own version


def test_a_crash_before_the_commit_is_rolled_back_and_the_next_round_redoes_it(
    five_jobs, compactor, searcher, layout, monkeypatch
):
    before = answers(searcher)
    c = collection(layout)
    version = c.manifest().version
    monkeypatch.setattr(GitRepo, "commit_all", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        compactor.compact("org1", "coll1")
    monkeypatch.undo()
    assert c.git.is_dirty()
    assert (
        searcher.search(
            SearchRequested(org_id="org1", collection_id="coll1", vector=[1.0] * 16)
        ).version
        == version
    )

    new = compactor.compact("org1", "coll1")  # recovers first, then compacts
    assert new is not None and new.version == version + 1 and not c.git.is_dirty()
    assert answers(searcher) == before


def test_the_background_thread_compacts_and_counts_it_in_a_metric(
    five_jobs, layout, segments, ingestor
):
    def succeeded() -> float:
        return (
            REGISTRY.get_sample_value("chatlens_index_compactions_total", {"outcome": "succeeded"})
            or 0.0
        )

    start = succeeded()
    version = collection(layout).manifest().version
    compactor = Compactor(layout, segments, ingestor, CONFIG)
    done = threading.Event()
    real = compactor.compact

    def compact_and_signal(org_id, collection_id):
        result = real(org_id, collection_id)
        if result is not None:
            done.set()
        return result

    compactor.compact = compact_and_signal  # type: ignore[method-assign]
    compactor.start()
    try:
        assert done.wait(60)
    finally:
        compactor.stop()
    assert collection(layout).manifest().version == version + 1
    assert succeeded() == start + 1


def test_compaction_switched_off_starts_no_thread(layout, segments, ingestor):
    off = Compactor(
        layout,
        segments,
        ingestor,
        CompactionConfig(enabled=False, max_small_segments=1, interval_s=0.01),
    )
    off.start()
    assert off._thread is None
    off.stop()
