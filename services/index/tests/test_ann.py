"""ANN segments: large segments get HNSW with recall@10 >= 0.95 against exact search (both less
the segment's hubness, ``storage.hubness``) on real
all-MiniLM-L6-v2 embeddings of chat text; filters stay exact; small and old segments stay flat.

The real model embeds a few thousand generated chat messages once per session; the ANN threshold
is lowered so that such a segment counts as large.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import faiss
import hubness_reference
import numpy as np
import pytest

from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.storage import ann
from chatlens.index.storage.ann import AnnConfig
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.segment import Segment, SegmentCache, write_segment
from chatlens.shared.schemas import SearchFilters, SearchRequested

from .conftest import T0, JobBuilder, feed, make_message

ROOT = Path(__file__).resolve().parents[3]
SEGMENT_ROWS = 2500
QUERIES = 200
K = 10
CHATS = 50  # one chat is 2% of the segment: below ann.EXACT_BELOW_SHARE


def _chat_texts(count: int) -> list[str]:
    """Distinct chat messages from the project's WhatsApp generator (bench/gen_whatsapp.py)."""
    path = ROOT / "bench" / "gen_whatsapp.py"
    spec = importlib.util.spec_from_file_location("gen_whatsapp", path)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    texts: dict[str, None] = {}
    for line in generator.messages(count * 3, 5, 8):
        text = line.split(" - ", 1)[1].split(": ", 1)[-1]
        if text != "<Media omitted>":
            texts.setdefault(text)
        if len(texts) == count:
            break
    return list(texts)


@pytest.fixture(scope="session")
def real_vectors() -> tuple[list[str], np.ndarray]:
    """(texts, their normalised all-MiniLM-L6-v2 embeddings), computed once per session."""
    from sentence_transformers import SentenceTransformer

    from chatlens.shared.model_files import embedding_model_dir

    texts = _chat_texts(SEGMENT_ROWS + QUERIES)
    model = SentenceTransformer(str(embedding_model_dir()), device="cpu")
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    return texts, vectors.astype(np.float32)


@pytest.fixture
def large_segment(real_vectors, layout) -> tuple[Searcher, np.ndarray, list[str], np.ndarray]:
    """One sealed job of SEGMENT_ROWS real messages in CHATS chats, through the real ingest path,
    with the ANN threshold below its size. Returns (searcher, matrix, ids, held-out queries)."""
    texts, vectors = real_vectors
    rows = texts[:SEGMENT_ROWS]
    messages = [
        make_message(f"m{n}", n, chat=f"chat{n % CHATS}", text=text).model_copy(
            update={"sent_at": T0 + timedelta(minutes=n)}
        )
        for n, text in enumerate(rows)
    ]
    ids = [m.message_id for m in messages]
    job = JobBuilder(
        "big", messages, dict(zip(ids, vectors[:SEGMENT_ROWS], strict=True)), batch_size=500
    )
    ingestor = Ingestor(
        layout, lambda message: None, SegmentCache(4), 384, AnnConfig(min_vectors=1000)
    )
    feed(ingestor, job.all_messages())
    return Searcher(layout, SegmentCache(4)), vectors[:SEGMENT_ROWS], ids, vectors[SEGMENT_ROWS:]


def stored_hubness(searcher: Searcher, ids: list[str]) -> np.ndarray:
    """The sealed segment's hubness (computed over its HNSW), in the order of ``ids``: the
    exact reference re-ranks by the same values, so only the ANN's recall is compared."""
    manifests = searcher.manifests
    collection = manifests.collection("org1", "coll1")
    (entry,) = manifests.manifest(collection, None).segments
    segment = searcher.segments.get(collection.segment_path(entry.id))
    assert segment.hubness is not None
    by_id = dict(zip(segment.vector_ids, segment.hubness, strict=True))
    return np.array([by_id[mid] for mid in ids])


def _search(searcher: Searcher, query: np.ndarray, **kwargs) -> list[str]:
    answer = searcher.search(
        SearchRequested(
            org_id="org1",
            collection_id="coll1",
            mode="semantic",
            vector=[float(x) for x in query],
            k=K,
            context=0,
            **kwargs,
        )
    )
    return [hit.message.message_id for hit in answer.hits]


def test_a_large_segment_gets_hnsw_and_a_small_one_stays_exact(large_segment, layout):
    collection = Collection(layout.collection("org1", "coll1"))
    index = faiss.read_index(str(collection.segment_path("job-big") / "vectors.faiss"))
    assert isinstance(index, faiss.IndexHNSWFlat)
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT
    assert index.hnsw.efSearch == AnnConfig().ef_search  # saved with the index

    small = ann.build_index(np.eye(4, dtype=np.float32), AnnConfig(min_vectors=5))
    assert type(small) is faiss.IndexFlatIP


def test_recall_at_10_against_exact_search_is_at_least_0_95_on_real_embeddings(large_segment):
    searcher, matrix, ids, queries = large_segment
    hub = stored_hubness(searcher, ids)
    recalls = []
    for query in queries:
        exact = {ids[i] for i in hubness_reference.order(matrix @ query, hub, K)}
        recalls.append(len(exact & set(_search(searcher, query))) / K)
    print(f"recall@10 of the HNSW segment against exact search: {np.mean(recalls):.3f}")
    assert np.mean(recalls) >= 0.95


@pytest.mark.parametrize(
    "chats",
    [["chat3"], [f"chat{n}" for n in range(20)]],
    ids=["narrow-filter-exact-scan", "broad-filter-graph-walk"],
)
def test_filtered_search_returns_only_allowed_messages_and_narrow_filters_are_exact(
    large_segment, chats
):
    searcher, matrix, ids, queries = large_segment
    allowed = np.array([f"chat{n % CHATS}" in chats for n in range(len(ids))])
    narrow = allowed.mean() < ann.EXACT_BELOW_SHARE
    hub = stored_hubness(searcher, ids)
    recalls = []
    for query in queries[:50]:
        scores = np.where(allowed, matrix @ query, -np.inf)
        exact = [ids[i] for i in hubness_reference.order(scores, hub, K)]
        found = _search(searcher, query, filters=SearchFilters(chat=chats))
        assert all(allowed[ids.index(mid)] for mid in found)
        assert len(found) == K
        if narrow:
            assert set(found) == set(exact)
        recalls.append(len(set(found) & set(exact)) / K)
    assert np.mean(recalls) >= 0.95


def test_a_flat_segment_written_before_ann_segments_still_loads_and_searches(tmp_path):
    messages = [make_message(f"o{n}", n) for n in range(3)]
    vectors = np.eye(3, 8, dtype=np.float32)
    write_segment(tmp_path / "old", messages, [m.message_id for m in messages], vectors)
    segment = Segment.load(tmp_path / "old")
    assert segment.ann is None and segment.exact is segment.index
    assert segment.search(vectors[1], 1) == [(pytest.approx(1.0), 1)]
