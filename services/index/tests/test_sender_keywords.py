"""Senders in the keyword index: found by name or id, weighed below the text, old segments load."""

from __future__ import annotations

import numpy as np

from chatlens.index.keyword import KeywordIndex, _bm25
from chatlens.index.storage.segment import Segment, SegmentCache, write_segment
from chatlens.index.text import tokenize
from chatlens.shared.schemas import SearchRequested

ROWS = [
    {"text": "the invoice is attached", "sender": "Sam Okafor", "sender_id": "U0SAM"},
    {"text": "sam, did the invoice arrive?", "sender": "Marta"},
    {"text": "lunch at noon", "sender": "Sam Okafor", "sender_id": "U0SAM"},
    {"text": "invoice for March", "sender": "Marta"},
    {"text": "", "sender": "Sam Okafor", "kind": "media"},
]


def keyword(searcher, query, **fields):
    answer = searcher.search(
        SearchRequested(
            org_id="org1", collection_id="coll1", mode="keyword", query=query, context=0, **fields
        )
    )
    return [hit.message.message_id for hit in answer.hits]


def test_a_message_is_found_by_who_sent_it(make_text_job, run_messages, searcher):
    run_messages(make_text_job("j", ROWS).all_messages())
    assert keyword(searcher, "okafor") == ["j-0", "j-2"]  # display name (the media has no text)
    assert keyword(searcher, "u0sam") == ["j-0", "j-2"]  # sender id
    assert keyword(searcher, "okaf*") == ["j-0", "j-2"]
    # Both words in the text; then "invoice" in the text and Sam as the sender (before a
    # message with the invoice alone); last Sam's message that does not mention the invoice.
    assert keyword(searcher, "invoice sam") == ["j-1", "j-0", "j-3", "j-2"]
    # Highlights stay on the text: a sender match marks nothing.
    answer = searcher.search(
        SearchRequested(org_id="org1", collection_id="coll1", mode="keyword", query="okafor")
    )
    assert all(hit.highlights == [] for hit in answer.hits)


def test_a_name_in_the_text_weighs_more_than_the_same_name_as_sender(
    make_text_job, run_messages, searcher
):
    run_messages(
        make_text_job(
            "j",
            [
                {"text": "ask priya about it", "sender": "Tom"},
                {"text": "about it", "sender": "Priya"},
            ],
        ).all_messages()
    )
    assert keyword(searcher, "priya") == ["j-0", "j-1"]


def test_segments_sealed_before_senders_were_indexed_still_load_and_search(tmp_path, make_text_job):
    job = make_text_job("old", ROWS)
    messages = [m for batch in job.batches() for m in batch.messages]
    ids = [m.message_id for m in messages if m.message_id in job.vectors]
    path = tmp_path / "segments" / "job-old"
    write_segment(path, messages, ids, np.array([job.vectors[i] for i in ids]))
    # What the text-only builder wrote: the same two files, no sender terms in them.
    matrix, vocab = _bm25([tokenize(m.text) if m.text.strip() else [] for m in messages])
    KeywordIndex(
        matrix.data, matrix.indices, matrix.indptr.astype(np.int64), vocab, len(messages)
    ).write(path)
    segment = Segment.load(path)
    assert segment.keywords.df("invoice") == 3 and segment.keywords.df("okafor") == 0
    assert SegmentCache(4).get(path).keywords.rows == len(messages)


def test_a_segment_without_keyword_files_gets_senders_on_load(tmp_path, make_text_job):
    job = make_text_job("older", ROWS)
    messages = [m for batch in job.batches() for m in batch.messages]
    ids = [m.message_id for m in messages if m.message_id in job.vectors]
    path = tmp_path / "segments" / "job-older"
    write_segment(path, messages, ids, np.array([job.vectors[i] for i in ids]))
    (path / "keywords.npz").unlink()
    (path / "keywords.json").unlink()
    assert Segment.load(path).keywords.df("okafor") == 2
