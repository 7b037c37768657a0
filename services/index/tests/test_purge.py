"""Purging messages from the whole history: rewritten versions, nothing left in .git, crash-safe."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chatlens.index.compaction import CompactionConfig, Compactor
from chatlens.index.deletion import Deleter
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage import history
from chatlens.index.storage.collection import Collection
from chatlens.index.versions import Versions
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    MessagesDeleteRequested,
    SearchRequested,
    VersionRestoreRequested,
    VersionsListRequested,
)

WHERE = {"org_id": "org1", "collection_id": "coll1"}
SECRET = "zanzibar-secret-phrase"


@pytest.fixture
def deleter(segments, ingestor) -> Deleter:
    return Deleter(segments, ingestor)


@pytest.fixture
def versions(layout, segments, ingestor) -> Versions:
    return Versions(ManifestReader(layout), segments, ingestor)


@pytest.fixture
def history_with_a_secret(make_text_job, run_messages, versions, deleter):
    """v1 job-a (the secret in chat Private), v2 job-b, v3 Private deleted, v4 v2 restored."""
    run_messages(
        make_text_job(
            "job-a",
            [
                {"text": f"the code is {SECRET}", "chat": "Private", "sender": "Kim"},
                {"text": "lunch at noon", "chat": "Team", "sender": "Ana"},
                {"text": f"{SECRET} again", "chat": "Private", "sender": "Kim"},
            ],
        ).all_messages()
    )
    run_messages(make_text_job("job-b", ["release on friday", "ship it"], seed=1).all_messages())
    deleter.delete(MessagesDeleteRequested(**WHERE, chat="Private"))
    versions.restore(VersionRestoreRequested(**WHERE, version=2))


def found_anywhere(path, text: str) -> list[str]:
    """Where ``text`` occurs under ``path``: raw file bytes, and every Git object decompressed."""
    needle = text.encode()
    hits = [str(p) for p in path.rglob("*") if p.is_file() and needle in p.read_bytes()]
    git = Collection(path).git
    objects = git.output("cat-file", "--batch-all-objects", "--batch", "--unordered")
    if needle in objects:
        hits.append("a git object")
    return hits


def search_ids(searcher, version=None) -> set[str]:
    answer = searcher.search(
        SearchRequested(**WHERE, vector=np.ones(16).tolist(), k=100, version=version, context=0)
    )
    return {hit.message.message_id for hit in answer.hits}


def test_a_purge_leaves_the_text_nowhere_and_every_version_searchable(
    history_with_a_secret, deleter, searcher, versions, layout
):
    path = layout.collection("org1", "coll1")
    assert found_anywhere(path, SECRET)  # the check sees it before the purge
    before = {v: search_ids(searcher, v) for v in range(5)}
    tags_before = Collection(path).git.tags()

    purged = deleter.delete(MessagesDeleteRequested(**WHERE, sender="kim", purge=True))

    # Live: the restore (v4) had brought them back; v5 removes them, and the history forgets.
    assert (purged.version, purged.removed, purged.purged) == (5, 2, 2)
    assert purged.rewritten >= 4  # v1 and every later version named job-a's segment
    assert found_anywhere(path, SECRET) == []
    assert found_anywhere(path, "Kim") == []
    secret_ids = {"job-a-0", "job-a-2"}
    for version, expected in before.items():
        assert search_ids(searcher, version) == expected - secret_ids
    assert search_ids(searcher) == {"job-a-1", "job-b-0", "job-b-1"}
    collection = Collection(path)
    assert sorted(collection.git.tags()) == sorted([*tags_before, "v5"])
    assert not collection.git.is_dirty()
    assert all(
        not m.tombstones or not set(m.tombstones) & secret_ids
        for _, _, _, m in collection.history()
    )
    listed = versions.list(VersionsListRequested(**WHERE)).versions
    assert [v.version for v in listed] == [0, 1, 2, 3, 4, 5]
    assert listed[5].message == (
        "v5: deleted and purged sender: 2 messages removed, 2 purged from every version"
    )
    assert [v.messages for v in listed] == [0, 1, 3, 3, 3, 3]
    # Nothing of the rewrite is left beside the collection.
    assert [p.name for p in path.parent.iterdir()] == ["coll1"]


def test_the_collection_keeps_working_after_a_purge(
    history_with_a_secret, deleter, searcher, make_text_job, run_messages, versions
):
    deleter.delete(MessagesDeleteRequested(**WHERE, chat="Private", purge=True))
    run_messages(make_text_job("job-c", ["after the purge"], seed=3).all_messages())
    assert "job-c-0" in search_ids(searcher)
    assert versions.restore(VersionRestoreRequested(**WHERE, version=1)).version == 7
    assert search_ids(searcher) == {"job-a-1"}


def test_purging_an_upload_removes_its_segment_from_every_version(
    history_with_a_secret, deleter, searcher, layout
):
    purged = deleter.delete(MessagesDeleteRequested(**WHERE, job_id="job-b", purge=True))
    assert (purged.removed, purged.purged) == (2, 2)
    assert found_anywhere(layout.collection("org1", "coll1"), "release on friday") == []
    assert search_ids(searcher, version=2) == {"job-a-0", "job-a-1", "job-a-2"}


def test_a_purge_repeated_finds_nothing_left(history_with_a_secret, deleter):
    deleter.delete(MessagesDeleteRequested(**WHERE, chat="Private", purge=True))
    with pytest.raises(PermanentError) as refused:
        deleter.delete(MessagesDeleteRequested(**WHERE, chat="Private", purge=True))
    assert refused.value.code == "chat_not_found"


def test_a_purge_that_fails_before_the_swap_leaves_the_collection_as_it_was(
    history_with_a_secret, deleter, searcher, layout, monkeypatch
):
    path = layout.collection("org1", "coll1")

    def crash(new, current):
        raise OSError("power cut")

    monkeypatch.setattr(history, "_swap", crash)
    request = MessagesDeleteRequested(**WHERE, chat="Private", purge=True)
    with pytest.raises(OSError):
        deleter.delete(request)
    # The deletion version was committed; the history is untouched; nothing is left aside.
    assert search_ids(searcher, version=1) == {"job-a-0", "job-a-1", "job-a-2"}
    assert found_anywhere(path, SECRET)
    assert [p.name for p in path.parent.iterdir()] == ["coll1"]
    # The redelivered request finishes the purge and answers as the first would have.
    monkeypatch.undo()
    again = deleter.delete(request)
    assert (again.version, again.removed, again.purged) == (5, 2, 2)
    assert found_anywhere(path, SECRET) == []


def test_an_interrupted_fallback_swap_is_finished_on_the_next_open(tmp_path):
    """Where the file system has no atomic exchange: old moved away, new not yet in place."""
    current = tmp_path / "coll1"
    new = tmp_path / f"{history.ASIDE}coll1-1234abcd"
    (new / ".git").mkdir(parents=True)
    (new / ".git" / history.COMPLETE).write_text("1")
    old = tmp_path / f"{history.ASIDE}coll1-old-99"
    (old / ".git").mkdir(parents=True)
    history.clean_aside(current)
    assert (current / ".git" / history.COMPLETE).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coll1"]


def test_a_compacted_segment_is_purged_with_its_origins(
    make_text_job, run_messages, deleter, searcher, layout, segments, ingestor
):
    for n in range(3):
        run_messages(
            make_text_job(
                f"job-{n}",
                [
                    {"text": f"{SECRET} {n}", "chat": "Private", "sender": "Kim"},
                    {"text": f"note {n}", "chat": "Team", "sender": "Ana"},
                ],
                seed=n,
            ).all_messages()
        )
    compactor = Compactor(layout, segments, ingestor, CompactionConfig(max_small_segments=1))
    assert compactor.compact("org1", "coll1") is not None  # v4: one compacted segment
    before = search_ids(searcher)

    deleter.delete(MessagesDeleteRequested(**WHERE, sender="Kim", purge=True))

    path = layout.collection("org1", "coll1")
    assert found_anywhere(path, SECRET) == []
    assert (
        search_ids(searcher)
        == search_ids(searcher, version=4)
        == {i for i in before if i.endswith("-1")}
    )
    [entry] = Collection(path).manifest().segments
    origins = json.loads((path / "segments" / entry.id / "origins.json").read_text())
    assert [count for _, count in origins] == [1, 1, 1]
