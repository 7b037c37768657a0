"""The retrieval evaluation's machinery: ingest the corpus in-process, run the labelled queries.

Everything between the export files and the ranked hits is the services' own code, wired in one
process instead of over RabbitMQ and Dask: the embedding worker's ``Handlers.ingest`` (parsers,
chunking, ``embedding_text``, batches) with all-MiniLM-L6-v2 loaded by the worker's own
``EmbedderPlugin`` and called directly rather than as a Dask task; its ``ChunksEmbedded`` and
``EmbeddingFinished`` handed straight to the index's ``Ingestor`` (one segment and one version per
export file); queries parsed by the gateway's ``parse_query``/``build_filters`` and embedded the
way the gateway asks for it, then answered by the index's ``Searcher``. What is left out is the
transport (HTTP, the bus, Dask), which does not change a ranking.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chatlens.embedding_worker.embedding import EmbedderPlugin
from chatlens.embedding_worker.handlers import Handlers
from chatlens.gateway.api.http_models import SearchFiltersIn
from chatlens.gateway.application.queries import build_filters
from chatlens.gateway.queryparse import parse_query
from chatlens.index import ranking, search
from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared import model_files, schemas
from chatlens.shared.bus import Delivery

EVAL_DIR = Path(__file__).resolve().parent
ORG, COLLECTION = "eval-org", "eval-collection"
MODES = ("semantic", "keyword", "hybrid")
K = 10


class LocalEmbedder:
    """The worker's ``Embedder`` interface, computing at once with the worker's own plugin."""

    def __init__(self) -> None:
        self.plugin = EmbedderPlugin(str(model_files.embedding_model_dir()), device="cpu")
        self.plugin.load()

    def submit(self, texts: Sequence[str], *, priority: int = 0) -> np.ndarray:
        return self.plugin.encode(texts)

    def result(self, future: np.ndarray) -> np.ndarray:
        return future

    def embed(self, texts: Sequence[str], *, priority: int = 0) -> np.ndarray:
        return self.plugin.encode(texts)


class LocalBus:
    """Routes what the embedding worker publishes to the index, as the bus would."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self.message_ids: dict[str, list[str]] = {}  # message text -> ids, to resolve labels

    def publish(self, message: schemas.Message) -> None:
        if isinstance(message, schemas.ChunksEmbedded):
            for chat_message in message.messages:
                self.message_ids.setdefault(chat_message.text, []).append(chat_message.message_id)
            self.ingestor.on_batch(message)
        elif isinstance(message, schemas.EmbeddingFinished):
            self.ingestor.on_finished(message)
        elif isinstance(message, schemas.JobFailed):
            raise RuntimeError(f"ingest failed: {message.code}: {message.reason}")


@dataclass
class Corpus:
    """An ingested corpus: its searcher, embedder, and the planted keys' message ids."""

    searcher: Searcher
    embedder: LocalEmbedder
    planted_ids: dict[str, str]
    messages: int
    segments: int


def ingest(
    files: list[Path],
    planted: dict[str, dict],
    index_dir: Path,
    embedder: LocalEmbedder | None = None,
    batch_size: int = 512,
) -> Corpus:
    """Ingest the export files (one job each) into a fresh index under ``index_dir``."""
    embedder = embedder or LocalEmbedder()
    layout = Layout(index_dir)
    ingestor = Ingestor(layout, lambda message: None, SegmentCache(64), 384)
    bus = LocalBus(ingestor)
    ingestor.publish = bus.publish
    # The files' common folder plays the upload store, as the gateway's would.
    root = Path(os.path.commonpath([Path(f).resolve().parent for f in files]))
    handlers = Handlers(
        bus.publish,
        embedder,
        upload_dir=root,  # type: ignore[arg-type]
        batch_size=batch_size,
    )
    delivery = Delivery(queue="eval", redelivered=False, delivery_count=1, correlation_id=None)
    for number, path in enumerate(files):
        data = Path(path).read_bytes()
        handlers.ingest(
            schemas.IngestRequested(
                job_id=f"eval-job-{number}",
                org_id=ORG,
                collection_id=COLLECTION,
                upload_key=str(Path(path).resolve().relative_to(root)),
                filename=Path(path).name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            ),
            delivery,
        )
    planted_ids = {}
    for key, spec in planted.items():
        ids = bus.message_ids.get(spec["text"], [])
        if len(ids) != 1:
            raise ValueError(f"planted message {key!r} occurs {len(ids)} times in the corpus")
        planted_ids[key] = ids[0]
    return Corpus(
        Searcher(layout, SegmentCache(64)),
        embedder,
        planted_ids,
        messages=sum(len(ids) for ids in bus.message_ids.values()),
        segments=len(files),
    )


@dataclass
class Outcome:
    query: str
    finds: list[str]
    mode: str
    rank: int | None  # 1-based rank of the first labelled message in the top K, None if absent
    top: list[str] = field(default_factory=list)  # the top 3 texts, for the failure list


def run_queries(corpus: Corpus, queries: list[dict], mode: str) -> list[Outcome]:
    """Each labelled query through the gateway's query parsing and the index's search."""
    outcomes = []
    vectors = _query_vectors(corpus, queries) if mode != "keyword" else {}
    for labelled in queries:
        hits = search_hits(corpus, labelled["query"], mode, vector=vectors.get(labelled["query"]))
        wanted = {corpus.planted_ids[key] for key in labelled["finds"]}
        ids = [hit.message.message_id for hit in hits]
        rank = next((n for n, mid in enumerate(ids, start=1) if mid in wanted), None)
        outcomes.append(
            Outcome(
                labelled["query"],
                labelled["finds"],
                mode,
                rank,
                [f"{h.message.sender}: {h.message.text}" for h in hits[:3]],
            )
        )
    return outcomes


def search_hits(
    corpus: Corpus, query: str, mode: str, k: int = K, vector: list[float] | None = None
) -> list[schemas.SearchHit]:
    """``query`` through the gateway's query parsing and the index's search (the query embedded
    here unless ``vector`` is given, and only when the mode needs it)."""
    parsed = parse_query(query)
    if vector is None and mode != "keyword":
        vector = corpus.embedder.embed([parsed.semantic_text])[0].tolist()
    answer = corpus.searcher.search(
        schemas.SearchRequested(
            org_id=ORG,
            collection_id=COLLECTION,
            mode=mode,
            query=parsed.text,
            vector=vector,
            filters=build_filters(SearchFiltersIn(), parsed),
            k=k,
            context=0,
        )
    )
    return list(answer.hits)


def _query_vectors(corpus: Corpus, queries: list[dict]) -> dict[str, list[float]]:
    texts = [parse_query(q["query"]).semantic_text for q in queries]
    matrix = corpus.embedder.embed(texts)
    return {q["query"]: row.tolist() for q, row in zip(queries, matrix, strict=True)}


def metrics(outcomes: list[Outcome]) -> dict[str, float]:
    """recall@1, recall@10 and MRR@10 (a query's reciprocal rank, 0 when not in the top 10)."""
    n = len(outcomes) or 1
    return {
        "recall@1": sum(o.rank == 1 for o in outcomes) / n,
        "recall@10": sum(o.rank is not None for o in outcomes) / n,
        "mrr": sum(1 / o.rank for o in outcomes if o.rank) / n,
    }


@contextmanager
def fusion(
    k: int | None = None,
    weights: tuple[float, float] | None = None,
    min_coverage: float | None = None,
    depth: int | None = None,
    fuse: Callable | None = None,
) -> Iterator[None]:
    """Run hybrid search with other fusion settings: the real code with its constants (and,
    for a candidate that is not in the index yet, its fusion function) swapped meanwhile."""
    saved = (
        ranking.RRF_K,
        ranking.RRF_WEIGHTS,
        ranking.reciprocal_rank_fusion,
        search.HYBRID_MIN_COVERAGE,
        search.FUSION_DEPTH,
    )
    try:
        ranking.RRF_K = saved[0] if k is None else k
        ranking.RRF_WEIGHTS = saved[1] if weights is None else weights
        ranking.reciprocal_rank_fusion = saved[2] if fuse is None else fuse
        search.HYBRID_MIN_COVERAGE = saved[3] if min_coverage is None else min_coverage
        search.FUSION_DEPTH = saved[4] if depth is None else depth
        yield
    finally:
        (
            ranking.RRF_K,
            ranking.RRF_WEIGHTS,
            ranking.reciprocal_rank_fusion,
            search.HYBRID_MIN_COVERAGE,
            search.FUSION_DEPTH,
        ) = saved


def convex_fusion(alpha: float) -> Callable:
    """A candidate, not adopted: alpha * cosine + (1 - alpha) * BM25 / the list's best BM25
    (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid Retrieval"); a message
    missing from the semantic list gets that list's lowest score, from the keyword list 0."""

    def fuse(lists: list[list[ranking.Ranked]]) -> list[ranking.Ranked]:
        semantic, keyword = lists
        top = max((score for score, _, _ in keyword), default=1.0) or 1.0
        cosines = {(n, p): score for score, n, p in semantic}
        matches = {(n, p): score / top for score, n, p in keyword}
        floor = min(cosines.values(), default=0.0)
        fused = {
            key: alpha * cosines.get(key, floor) + (1 - alpha) * matches.get(key, 0.0)
            for key in cosines.keys() | matches.keys()
        }
        order = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        return [(score, n, p) for (n, p), score in order]

    return fuse


def load_labels(path: Path = EVAL_DIR / "labels.json") -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def corpus_files(folder: Path = EVAL_DIR / "corpus") -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def split(queries: list[dict]) -> tuple[list[dict], list[dict]]:
    """(tuning half, held-out half): alternate queries, so both halves span every chat."""
    return queries[0::2], queries[1::2]
