"""A segment's BM25 keyword index, built with ``bm25s`` when the segment is sealed.

bm25s turns the tokenised messages into a sparse document-term matrix of precomputed BM25 scores
(Lucene variant: ``idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))``), stored
column-wise (CSC): the column of a term lists the rows holding it and their scores. The segment
keeps that matrix and its vocabulary as two immutable files next to the FAISS index:

    segments/<id>/keywords.npz       data, indices, indptr (CSC) and the row count
    segments/<id>/keywords.json      the vocabulary, in column order

Row ``i`` is the segment's ``messages[i]``; a message without searchable text is an empty row.

**idf is global, not per segment.** A segment's own idf would rank the same message differently
depending on which upload it arrived with, and a word that is rare in one small segment would
outweigh it everywhere. So at query time a term's score in a segment is rescaled by
``idf_global(t) / idf_segment(t)``, where ``idf_global`` uses the document count and document
frequency summed over the version's live segments. The length normalisation (``avglen``) stays
per segment; segments are large enough that it barely differs.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from pathlib import Path

import bm25s
import numpy as np

from chatlens.index.storage import atomic
from chatlens.index.text import tokenize
from chatlens.shared.schemas import ChatMessage

MATRIX = "keywords.npz"
VOCAB = "keywords.json"
MAX_PREFIX_EXPANSION = 64


def searchable(message: ChatMessage) -> bool:
    return message.kind != "deleted" and not message.deleted and bool(message.text.strip())


class KeywordIndex:
    """One segment's BM25 matrix: per-term posting rows and their scores."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 vocab: list[str], rows: int) -> None:
        self.data, self.indices, self.indptr = data, indices, indptr
        self.rows = rows
        self.vocab = {term: column for column, term in enumerate(vocab)}
        self._sorted = sorted(term for term in vocab if term)

    # --- building and storing ----------------------------------------------------------------
    @classmethod
    def build(cls, messages: list[ChatMessage]) -> KeywordIndex:
        corpus = [tokenize(m.text) if searchable(m) else [] for m in messages]
        if not messages:
            return cls(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64),
                       [], 0)
        retriever = bm25s.BM25(method="lucene")
        retriever.index(corpus, show_progress=False)
        scores = retriever.scores
        vocab = [""] * len(retriever.vocab_dict)
        for term, column in retriever.vocab_dict.items():
            vocab[column] = term
        return cls(np.asarray(scores["data"], np.float32), np.asarray(scores["indices"], np.int32),
                   np.asarray(scores["indptr"], np.int64), vocab, len(messages))

    def write(self, path: Path) -> None:
        """Write both files atomically into the segment folder ``path``."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        with atomic.replacing(path / MATRIX) as tmp:
            with open(tmp, "xb") as handle:
                np.savez(handle, data=self.data, indices=self.indices, indptr=self.indptr,
                         rows=np.array([self.rows]))
        atomic.write_bytes(path / VOCAB, json.dumps(vocab, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        with np.load(path / MATRIX, allow_pickle=False) as arrays:
            data, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
            rows = int(arrays["rows"][0])
        vocab = json.loads((path / VOCAB).read_text(encoding="utf-8"))
        return cls(data, indices, indptr, vocab, rows)

    # --- statistics for global idf ----------------------------------------------------------
    def df(self, term: str) -> int:
        column = self.vocab.get(term)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def expand_prefix(self, prefix: str) -> list[str]:
        """Vocabulary terms starting with ``prefix`` (at most MAX_PREFIX_EXPANSION, in order)."""
        start = bisect_left(self._sorted, prefix)
        out = []
        for term in self._sorted[start:start + MAX_PREFIX_EXPANSION]:
            if not term.startswith(prefix):
                break
            out.append(term)
        return out

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores with this segment's idf) of ``term``."""
        column = self.vocab.get(term)
        if column is None:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.indices[start:end], self.data[start:end]

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        """Each row's BM25 score for the terms, ``weights`` mapping a term to its global idf."""
        out = np.zeros(self.rows, np.float32)
        for term, global_idf in weights.items():
            rows, scores = self.postings(term)
            if rows.size:
                out[rows] += scores * np.float32(global_idf / idf(len(rows), self.rows))
        return out


def idf(df: int, n: int) -> float:
    """Lucene's BM25 idf, as bm25s computes it."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
