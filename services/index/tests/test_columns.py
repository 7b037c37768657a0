"""The columns file of a segment: written with it and committed to Git with it, read back as the
same records, and built in memory for a segment that predates it."""

from __future__ import annotations

import subprocess

import pyarrow.parquet as pq

from chatlens.index.storage.collection import Collection
from chatlens.index.storage.columns import COLUMNS, table_of
from chatlens.index.storage.segment import Segment


def test_a_segment_keeps_its_records_as_columns_committed_with_it(
    layout, run_messages, make_text_job
):
    run_messages(
        make_text_job(
            "j1",
            [
                "plain words here",
                {"text": "see https://example.org 🎉👍", "edited": True},
                {"kind": "media", "text": ""},
                {"kind": "system", "text": "Ana joined", "sender": None},
            ],
        ).all_messages()
    )
    collection = Collection(layout.collection("org1", "coll1"))
    [entry] = collection.head_manifest().segments
    path = collection.segment_path(entry.id)
    tracked = subprocess.run(
        ["git", "-C", str(collection.path), "ls-files"], check=True, capture_output=True, text=True
    ).stdout.split()
    assert f"segments/{entry.id}/{COLUMNS}" in tracked
    assert not any(".tmp-" in name for name in tracked)
    rows = pq.read_table(path / COLUMNS).to_pylist()
    assert [r["message_id"] for r in rows] == [f"j1-{n}" for n in range(4)]
    assert [(r["words"], r["emojis"], r["link"], r["media"], r["edited"]) for r in rows] == [
        (3, 0, False, False, False),
        (3, 2, True, False, True),
        (0, 0, False, True, False),
        (2, 0, False, False, False),
    ]
    assert rows[3]["sender"] is None and rows[3]["kind"] == "system"
    assert rows[0]["sent_at"].tzinfo is not None


def test_a_segment_without_the_file_builds_its_columns_on_load(layout, run_messages, make_text_job):
    run_messages(make_text_job("j1", ["one", "two words", "three more words"]).all_messages())
    collection = Collection(layout.collection("org1", "coll1"))
    [entry] = collection.head_manifest().segments
    path = collection.segment_path(entry.id)
    written = pq.read_table(path / COLUMNS)
    (path / COLUMNS).unlink()  # as a segment sealed before the file existed
    loaded = Segment.load(path)
    # Everything as at ingest, the language and the words derived from the text included.
    assert loaded.table.to_pylist() == written.to_pylist()
    assert loaded.table["language"].to_pylist() == [None, None, "en"]
    assert loaded.table.to_pylist() == table_of(loaded.messages).to_pylist()
    assert not (path / COLUMNS).exists()  # a committed segment folder is never modified


def test_columns_built_for_an_older_segment_are_kept_in_the_cache_and_read_back(
    layout, run_messages, make_text_job, monkeypatch
):
    """Deriving an old segment's columns (its words, its languages) is paid once, not at every
    load: the table goes to the index's cache, outside the repository, named by the file it was
    built from."""
    from chatlens.index.storage import columns, words
    from chatlens.index.storage.segment import MESSAGES, SegmentCache

    run_messages(make_text_job("j1", ["one", "two words", "three more words"]).all_messages())
    collection = Collection(layout.collection("org1", "coll1"))
    [entry] = collection.head_manifest().segments
    path = collection.segment_path(entry.id)
    current = pq.read_table(path / COLUMNS)
    old = current.drop_columns(["language", *words.FIELDS]).replace_schema_metadata(
        {b"chatlens.columns": b"3"}
    )
    pq.write_table(old, path / COLUMNS)  # as a segment written before the language column
    listed = sorted(p.name for p in path.iterdir())
    first = SegmentCache(4, derived=layout.derived).get(path)
    cache = layout.derived / "columns"
    assert first.table.to_pylist() == current.to_pylist()
    [kept] = cache.iterdir()
    assert kept.name.endswith(f"-{columns.LAYOUT.decode()}.parquet")
    assert sorted(p.name for p in path.iterdir()) == listed  # the segment folder is untouched

    def derived_again(*_args):
        raise AssertionError("derived again although the cache holds the table")

    monkeypatch.setattr(columns, "upgraded", derived_again)
    monkeypatch.setattr(columns, "table_of", derived_again)
    again = SegmentCache(4, derived=layout.derived).get(path)
    assert again.table.to_pylist() == current.to_pylist()
    assert again.table.schema == columns.SCHEMA
    monkeypatch.undo()

    # Another file (a purge rewrote it) is never read as the cached one: it has its own entry.
    pq.write_table(old.slice(0, 2), path / COLUMNS)
    with open(path / MESSAGES, "rb") as handle:
        lines = handle.readlines()
    (path / MESSAGES).write_bytes(b"".join(lines[:2]))
    assert len(columns.load(path, None, cache)) == 2
    assert len(list(cache.iterdir())) == 2

    # A segment without the file is named by its messages' file.
    from chatlens.index.storage.records import Records

    (path / COLUMNS).unlink()
    built = columns.load(path, Records(path / MESSAGES), cache, source=path / MESSAGES)
    assert built.num_rows == 2
    assert len(list(cache.iterdir())) == 3
    monkeypatch.setattr(columns, "table_of", derived_again)
    read = columns.load(path, Records(path / MESSAGES), cache, source=path / MESSAGES)
    assert read.to_pylist() == built.to_pylist()
