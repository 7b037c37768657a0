"""Retrieval candidates of issue 16, measured on both halves of the labelled queries.

    python eval/candidates.py [--index DIR]

Ingests ``eval/corpus`` once (``harness.ingest``; with ``--index DIR`` the ingested index and
its planted ids are kept there and reused by the next run, so a candidate costs seconds, not
the minutes of an ingest), then runs each candidate over the 102 queries and prints recall@1,
recall@10 and MRR per half against the index's hybrid (and semantic) search as it is. A
candidate's settings are chosen on the ``tune`` half only; ``held-out`` is reported, never
used to choose. Every candidate re-ranks or re-asks the index's own ``Searcher``:

- ``neighbours``: a hit's neighbours in the same chunk (the worker's session) that are also in
  the ranked list lend it ``weight`` x their best score;
- ``question filters``: the gateway's ``question_filters.interpret`` (senders, chats, dates
  named in the question, dates anchored at the corpus's last message as ``/ask`` does) applied
  as search filters (``hard``) or as a bonus to the hits that match them (``soft``);
- ``fusion``: RRF constants and list weights (``harness.fusion``);
- ``expansion``: pseudo-relevance feedback (Rocchio): the query vector moved towards the mean
  vector of the first ``m`` semantic hits by ``beta``;
- ``contextual``: the first ``WIDE`` hits re-ranked by their own cosine to the question plus a
  weight times their conversational context's (the previous turn, or a window of turns, speakers
  named), embedded as a second vector.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import harness  # noqa: E402
import numpy as np  # noqa: E402

from chatlens.embedding_worker.chunking import embedding_text  # noqa: E402
from chatlens.gateway.application.queries import FilterValues, build_filters  # noqa: E402
from chatlens.gateway.queryparse import parse_query  # noqa: E402
from chatlens.gateway.question_filters import interpret  # noqa: E402
from chatlens.index.search import Searcher  # noqa: E402
from chatlens.index.storage.layout import Layout  # noqa: E402
from chatlens.index.storage.segment import SegmentCache  # noqa: E402
from chatlens.shared import schemas  # noqa: E402

WIDE = 100  # how deep a re-ranking candidate asks the index before it keeps the top 10
Hits = list[schemas.SearchHit]
Ranker = Callable[[harness.Corpus, dict], Hits]


def load_or_ingest(index_dir: Path | None, labels: dict) -> harness.Corpus:
    """The ingested corpus, from ``index_dir`` when an earlier run left it there."""
    if index_dir is not None and (index_dir / "planted.json").exists():
        return harness.Corpus(
            Searcher(Layout(index_dir / "index"), SegmentCache(64)),
            harness.LocalEmbedder(),
            json.loads((index_dir / "planted.json").read_text()),
            0,
            0,
        )
    folder = index_dir or Path(tempfile.mkdtemp(prefix="chatlens-candidates-"))
    corpus = harness.ingest(harness.corpus_files(), labels["planted"], folder / "index")
    (folder / "planted.json").write_text(json.dumps(corpus.planted_ids))
    return corpus


def ask(
    corpus: harness.Corpus,
    query: str,
    mode: str,
    k: int,
    vector: list[float] | None = None,
    extra: FilterValues | None = None,
    offset: int = 0,
) -> Hits:
    """The index's search as ``harness.run_queries`` asks it, ``k`` deep (from ``offset``)."""
    parsed = parse_query(query)
    filters = build_filters(extra or FilterValues(), parsed)
    if vector is None and mode != "keyword":
        vector = corpus.embedder.embed([parsed.semantic_text])[0].tolist()
    return corpus.searcher.search(
        schemas.SearchRequested(
            org_id=harness.ORG,
            collection_id=harness.COLLECTION,
            mode=mode,
            query=parsed.text,
            vector=vector,
            filters=filters,
            k=k,
            offset=offset,
            context=0,
        )
    ).hits


def outcomes(corpus: harness.Corpus, queries: list[dict], ranker: Ranker) -> list:
    found = []
    for labelled in queries:
        ids = [hit.message.message_id for hit in ranker(corpus, labelled)[: harness.K]]
        wanted = {corpus.planted_ids[key] for key in labelled["finds"]}
        rank = next((n for n, mid in enumerate(ids, start=1) if mid in wanted), None)
        found.append(harness.Outcome(labelled["query"], labelled["finds"], "", rank))
    return found


# --- the candidates -----------------------------------------------------------------------------


def plain(mode: str) -> Ranker:
    return lambda corpus, labelled: ask(corpus, labelled["query"], mode, harness.K)


def neighbours(mode: str, weight: float, reach: int = 2) -> Ranker:
    """Each hit gains ``weight`` x the best score of a hit within ``reach`` messages of it in
    the same chunk (same chat, same session)."""

    def rank(corpus: harness.Corpus, labelled: dict) -> Hits:
        hits = ask(corpus, labelled["query"], mode, WIDE)
        by_place = {(h.message.chunk_id, h.message.chat, h.message.seq): h.score for h in hits}
        scored = []
        for hit in hits:
            m = hit.message
            lent = [
                by_place.get((m.chunk_id, m.chat, m.seq + d), 0.0)
                for d in range(-reach, reach + 1)
                if d
            ]
            scored.append((hit.score + weight * max(lent, default=0.0), hit))
        scored.sort(key=lambda pair: -pair[0])
        return [hit for _, hit in scored]

    return rank


class QuestionScope:
    """The gateway's question filters read against the corpus's senders and chats, with dates
    anchored at its last message (``answers.read_question``)."""

    def __init__(self, corpus: harness.Corpus) -> None:
        senders, chats, last = set(), set(), datetime(1970, 1, 1, tzinfo=UTC)
        manifests = corpus.searcher.manifests  # the searcher has no facets: read the segments
        collection = manifests.collection(harness.ORG, harness.COLLECTION)
        for entry in manifests.manifest(collection, None).segments:
            segment = corpus.searcher.segments.get(collection.segment_path(entry.id))
            for message in segment.messages:
                if message.sender:
                    senders.add(message.sender)
                chats.add(message.chat)
                last = max(last, message.sent_at)
        self.senders, self.chats, self.now = sorted(senders), sorted(chats), last

    def read(self, query: str):
        return interpret(parse_query(query).semantic_text, self.senders, self.chats, self.now)


def question_filters(mode: str, scope: QuestionScope, hard: bool, bonus: float = 0.0) -> Ranker:
    def rank(corpus: harness.Corpus, labelled: dict) -> Hits:
        read = scope.read(labelled["query"])
        if not (read.senders or read.chats or read.since or read.until):
            return ask(corpus, labelled["query"], mode, harness.K)
        if hard:
            extra = FilterValues(
                sender=read.senders or None,
                chat=read.chats or None,
                since=read.since.isoformat() if read.since else None,
                until=read.until.isoformat() if read.until else None,
            )
            return ask(corpus, labelled["query"], mode, harness.K, extra=extra)
        hits = ask(corpus, labelled["query"], mode, WIDE)
        top = max((h.score for h in hits), default=1.0) or 1.0

        def matches(m: schemas.ChatMessage) -> int:
            return sum(
                [
                    bool(read.senders) and m.sender in read.senders,
                    bool(read.chats) and m.chat in read.chats,
                    bool(read.since or read.until)
                    and (read.since is None or m.sent_at >= read.since)
                    and (read.until is None or m.sent_at < read.until),
                ]
            )

        return sorted(hits, key=lambda h: -(h.score + bonus * top * matches(h.message)))

    return rank


def expansion(mode: str, m: int, beta: float) -> Ranker:
    """Rocchio pseudo-relevance feedback on the query vector."""

    def rank(corpus: harness.Corpus, labelled: dict) -> Hits:
        text = parse_query(labelled["query"]).semantic_text
        query = corpus.embedder.embed([text])[0]
        first = ask(corpus, labelled["query"], "semantic", m, vector=query.tolist())
        if not first:
            return ask(corpus, labelled["query"], mode, harness.K, vector=query.tolist())
        feedback = corpus.embedder.embed([embedding_text(h.message) for h in first]).mean(0)
        moved = query + beta * feedback
        moved = moved / np.linalg.norm(moved)
        return ask(corpus, labelled["query"], mode, harness.K, vector=moved.tolist())

    return rank


class Context:
    """Each message's conversational context as a second vector (issue 16: "embed a message with
    its conversational context, the previous turn or the session window, speakers named"): the
    ``before`` messages ahead of it and ``after`` behind it in its chat, in order, each as
    "Sender: text", embedded lazily and kept."""

    def __init__(self, corpus: harness.Corpus, before: int, after: int) -> None:
        self.corpus, self.before, self.after = corpus, before, after
        self.chats: dict[str, list[schemas.ChatMessage]] = {}
        manifests = corpus.searcher.manifests
        collection = manifests.collection(harness.ORG, harness.COLLECTION)
        for entry in manifests.manifest(collection, None).segments:
            segment = corpus.searcher.segments.get(collection.segment_path(entry.id))
            for message in segment.messages:
                self.chats.setdefault(message.chat, []).append(message)
        self.place: dict[str, tuple[str, int]] = {}
        for chat, messages in self.chats.items():
            messages.sort(key=lambda m: (m.sent_at, m.seq))
            for n, message in enumerate(messages):
                self.place[message.message_id] = (chat, n)
        self.vectors: dict[str, np.ndarray] = {}

    def text(self, message: schemas.ChatMessage) -> str:
        chat, n = self.place[message.message_id]
        window = self.chats[chat][max(0, n - self.before) : n + self.after + 1]
        return "\n".join(embedding_text(m) for m in window)

    def vectors_of(self, messages: list[schemas.ChatMessage]) -> np.ndarray:
        missing = [m for m in messages if m.message_id not in self.vectors]
        if missing:
            for m, vector in zip(
                missing, self.corpus.embedder.embed([self.text(m) for m in missing]), strict=True
            ):
                self.vectors[m.message_id] = vector
        return np.stack([self.vectors[m.message_id] for m in messages])


def contextual(mode: str, context: Context, weight: float) -> Ranker:
    """The ``WIDE`` first hits re-ranked by their own cosine to the question plus ``weight`` x
    their context's (both vectors normalised, as the index's)."""

    def rank(corpus: harness.Corpus, labelled: dict) -> Hits:
        query = corpus.embedder.embed([parse_query(labelled["query"]).semantic_text])[0]
        hits = ask(corpus, labelled["query"], mode, WIDE, vector=query.tolist())
        if not hits:
            return hits
        own = corpus.embedder.embed([embedding_text(h.message) for h in hits]) @ query
        around = context.vectors_of([h.message for h in hits]) @ query
        order = np.argsort(-(own + weight * around), kind="stable")
        return [hits[i] for i in order]

    return rank


def fused(settings: dict) -> Ranker:
    def rank(corpus: harness.Corpus, labelled: dict) -> Hits:
        with harness.fusion(**settings):
            return ask(corpus, labelled["query"], "hybrid", harness.K)

    return rank


def candidates(corpus: harness.Corpus) -> dict[str, Ranker]:
    """One setting or two per idea: the machine this runs on is shared, and each costs minutes."""
    scope = QuestionScope(corpus)
    previous, window = Context(corpus, 1, 0), Context(corpus, 2, 1)
    return {
        "semantic (now)": plain("semantic"),
        "hybrid (now)": plain("hybrid"),
        "(a) semantic, neighbours lend 0.1": neighbours("semantic", 0.1),
        "(a) hybrid, neighbours lend 0.1": neighbours("hybrid", 0.1),
        "(a) hybrid, neighbours lend 0.02": neighbours("hybrid", 0.02),
        "(b) hybrid, question filters as filters": question_filters("hybrid", scope, hard=True),
        "(b) hybrid, question filters bonus 0.1": question_filters(
            "hybrid", scope, hard=False, bonus=0.1
        ),
        "(c) hybrid, RRF k=20": fused({"k": 20}),
        "(c) hybrid, weights 1:0.25": fused({"weights": (1.0, 0.25)}),
        "(d) hybrid, PRF m=3 beta=0.3": expansion("hybrid", 3, 0.3),
        "(d) hybrid, PRF m=5 beta=0.6": expansion("hybrid", 5, 0.6),
        "(d) semantic, PRF m=3 beta=0.3": expansion("semantic", 3, 0.3),
        "(e) hybrid, re-ranked own only": contextual("hybrid", previous, 0.0),
        "(e) hybrid, + 0.5 x previous turn": contextual("hybrid", previous, 0.5),
        "(e) hybrid, + 1.0 x previous turn": contextual("hybrid", previous, 1.0),
        "(e) hybrid, + 0.5 x window -2..+1": contextual("hybrid", window, 0.5),
        "(e) hybrid, + 1.0 x window -2..+1": contextual("hybrid", window, 1.0),
        "(e) semantic, + 0.5 x window -2..+1": contextual("semantic", window, 0.5),
        "(f) semantic, + 0.3 x window -2..+1": contextual("semantic", window, 0.3),
        "(f) semantic, + 0.7 x window -2..+1": contextual("semantic", window, 0.7),
        "(f) semantic, + 0.5 x window -1..+1": contextual("semantic", Context(corpus, 1, 1), 0.5),
        "(f) semantic, + 0.5 x window -3..+1": contextual("semantic", Context(corpus, 3, 1), 0.5),
        "(f) semantic, + 0.5 x window -2..+2": contextual("semantic", Context(corpus, 2, 2), 0.5),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="keep (and reuse) the ingested index here")
    parser.add_argument("--only", help="run only the candidates whose label contains this")
    args = parser.parse_args()
    labels = harness.load_labels()
    queries = labels["queries"]
    tune, held_out = harness.split(queries)
    if args.index:
        args.index.mkdir(parents=True, exist_ok=True)
    corpus = load_or_ingest(args.index, labels)
    base: dict[str, list] = {}
    print(f"{'candidate':44} {'tune r@1  r@10   MRR':>22}   {'held-out r@1  r@10   MRR':>26}")
    for label, ranker in candidates(corpus).items():
        if args.only and args.only not in label and "(now)" not in label:
            continue
        result = outcomes(corpus, queries, ranker)
        mode = "semantic" if "semantic" in label else "hybrid"
        base.setdefault(mode, result)
        cells = []
        for half in (tune, held_out):
            wanted = {q["query"] for q in half}
            mine = [o for o in result if o.query in wanted]
            figures = harness.metrics(mine)
            theirs = {o.query: o.rank for o in base[mode]}
            better = sum(
                (1 / o.rank if o.rank else 0) > (1 / theirs[o.query] if theirs[o.query] else 0)
                for o in mine
            )
            worse = sum(
                (1 / o.rank if o.rank else 0) < (1 / theirs[o.query] if theirs[o.query] else 0)
                for o in mine
            )
            cells.append(
                f"{figures['recall@1']:.3f} {figures['recall@10']:.3f} "
                f"{figures['mrr']:.3f} +{better:<2}-{worse:<2}"
            )
        print(f"{label:44} {cells[0]:>26}   {cells[1]:>26}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
