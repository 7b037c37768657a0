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
