"""One search over several collections of an org: one corpus, one ranking, labelled hits."""

from __future__ import annotations

import numpy as np
import pytest

from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import SearchRequested

TEXTS_A = ["the invoice from Sam is late", "lunch at noon?", "booked the Lisbon offsite"]
TEXTS_B = ["invoice paid, thanks", "Lisbon weather looks great", "who has the projector"]


@pytest.fixture
def two_collections(make_text_job, run_messages):
    a = make_text_job("ja", TEXTS_A, seed=1, collection_id="coll-a")
    b = make_text_job("jb", TEXTS_B, seed=2, collection_id="coll-b")
    run_messages(a.all_messages())
    run_messages(b.all_messages())
    # The union, ingested as one collection, is what a search over both must equal.
    union = make_text_job("ja", TEXTS_A, seed=1, collection_id="coll-union")
    run_messages(union.all_messages())
    run_messages(make_text_job("jb", TEXTS_B, seed=2, collection_id="coll-union").all_messages())
    return a, b


def ask(searcher, collection_id="coll-a", **fields):
    return searcher.search(SearchRequested(org_id="org1", collection_id=collection_id, **fields))


def ranking(answer):
    return [(hit.message.message_id, round(hit.score, 5)) for hit in answer.hits]


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_several_collections_rank_exactly_like_their_union(two_collections, searcher, mode):
    a, _ = two_collections
    vector = (a.vectors["ja-0"] + np.float32(0.05)).tolist()
    fields = {
        "mode": mode,
        "query": "invoice lisbon",
        "k": 6,
        "context": 0,
        "vector": None if mode == "keyword" else vector,
    }
    across = ask(searcher, collection_ids=["coll-b"], **fields)
    union = ask(searcher, collection_id="coll-union", **fields)
    assert ranking(across) == ranking(union) and across.hits
    assert {hit.collection_id for hit in across.hits} == {"coll-a", "coll-b"}
    for hit in across.hits:
        assert hit.collection_id == (
            "coll-a" if hit.message.message_id.startswith("ja") else "coll-b"
        )
    assert across.versions == {"coll-a": 1, "coll-b": 1}


def test_pages_of_several_collections_follow_the_pinned_versions(
    two_collections, searcher, make_text_job, run_messages
):
    first = ask(
        searcher, collection_ids=["coll-b"], mode="keyword", query="invoice lisbon", k=2, context=0
    )
    assert first.next_offset == 2
    run_messages(
        make_text_job(
            "jb2", ["another invoice, Lisbon too"], seed=3, collection_id="coll-b", first_seq=10
        ).all_messages()
    )
    pinned = ask(
        searcher,
        collection_ids=["coll-b"],
        mode="keyword",
        query="invoice lisbon",
        k=2,
        offset=2,
        context=0,
        version=first.versions["coll-a"],
        collection_versions={"coll-b": first.versions["coll-b"]},
    )
    assert pinned.versions == {"coll-a": 1, "coll-b": 1}
    seen = [h.message.message_id for h in first.hits + pinned.hits]
    assert "jb2-0" not in seen and len(set(seen)) == len(seen) == 4
    latest = ask(searcher, collection_ids=["coll-b"], mode="keyword", query="invoice lisbon")
    assert latest.versions == {"coll-a": 1, "coll-b": 2}
    assert "jb2-0" in {h.message.message_id for h in latest.hits}


def test_a_collection_of_another_org_or_unknown_is_not_found(
    two_collections, searcher, make_text_job, run_messages
):
    run_messages(
        make_text_job("jx", ["invoice"], org_id="org2", collection_id="coll-x").all_messages()
    )
    for others in (["coll-x"], ["nope"], ["../org2/coll-x"]):
        with pytest.raises(PermanentError) as refused:
            ask(searcher, collection_ids=others, mode="keyword", query="invoice")
        assert refused.value.code == "not_found"
