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

**Senders are searchable.** A message's sender display name and sender id are a second field of
its document: ``keyword`` finds "invoice sam" among the messages Sam sent. The two fields are
scored by BM25 separately (each with its own length normalisation, so a name does not make the
text look longer), and a term's score in a row is
``idf(t) * (tf_text + SENDER_WEIGHT * tf_sender)``, with ``tf_*`` the saturated term-frequency
parts and ``idf`` over the rows holding the term in either field. The combined matrix is stored
exactly like a text-only one, so segments sealed before senders were indexed still load (their
senders are just not searchable until the segment is rewritten, e.g. by compaction).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from pathlib import Path

import bm25s
import numpy as np
from scipy import sparse

from chatlens.index.storage import atomic
from chatlens.index.text import tokenize
from chatlens.shared.schemas import ChatMessage

MATRIX = "keywords.npz"
VOCAB = "keywords.json"
MAX_PREFIX_EXPANSION = 64
# A sender match counts half an occurrence in the text: among the messages about the invoice,
# Sam's come first, but a message that says "Sam" outranks one Sam merely sent.
SENDER_WEIGHT = 0.5


def searchable(message: ChatMessage) -> bool:
    return message.kind != "deleted" and not message.deleted and bool(message.text.strip())


def sender_tokens(message: ChatMessage) -> list[str]:
    """The words of the sender's display name and id, each once."""
    words = tokenize(message.sender or "") + tokenize(message.sender_id or "")
    return list(dict.fromkeys(words))


def _bm25(corpus: list[list[str]]) -> tuple[sparse.csc_matrix, list[str]]:
    """bm25s' score matrix of ``corpus`` (rows x terms) and its vocabulary, in column order."""
    if not any(corpus):
        return sparse.csc_matrix((len(corpus), 0), dtype=np.float32), []
    retriever = bm25s.BM25(method="lucene")
    retriever.index(corpus, show_progress=False)
    scores = retriever.scores
    columns = len(scores["indptr"]) - 1
    vocab = [""] * len(retriever.vocab_dict)
    for term, column in retriever.vocab_dict.items():
        vocab[column] = term
    matrix = sparse.csc_matrix(
        (
            np.asarray(scores["data"], np.float32),
            np.asarray(scores["indices"], np.int32),
            np.asarray(scores["indptr"], np.int64),
        ),
        shape=(len(corpus), columns),
    )
    return matrix, vocab[:columns]


def _tf_parts(matrix: sparse.csc_matrix) -> sparse.coo_matrix:
    """BM25 scores divided by their column's idf: the saturated term frequencies."""
    df = np.diff(matrix.indptr)
    idfs = np.array([idf(int(d), matrix.shape[0]) for d in df], np.float64)
    tf = matrix.astype(np.float64)
    tf.data /= np.repeat(idfs, df)
    return tf.tocoo()


class KeywordIndex:
    """One segment's BM25 matrix: per-term posting rows and their scores."""

    def __init__(
        self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocab: list[str], rows: int
    ) -> None:
        self.data, self.indices, self.indptr = data, indices, indptr
        self.rows = rows
        self.vocab = {term: column for column, term in enumerate(vocab)}
        self._sorted = sorted(term for term in vocab if term)

    # --- building and storing ----------------------------------------------------------------
    @classmethod
    def build(cls, messages: list[ChatMessage]) -> KeywordIndex:
        """Text and sender fields, combined as the module says."""
        if not messages:
            return cls(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), [], 0)
        text, text_vocab = _bm25([tokenize(m.text) if searchable(m) else [] for m in messages])
        names, name_vocab = _bm25([sender_tokens(m) if searchable(m) else [] for m in messages])
        vocab = sorted({*text_vocab, *name_vocab} - {""})
        column = {term: n for n, term in enumerate(vocab)}
        rows, columns, values = [], [], []
        for tf, field_vocab, weight in (
            (_tf_parts(text), text_vocab, 1.0),
            (_tf_parts(names), name_vocab, SENDER_WEIGHT),
        ):
            remap = np.array([column.get(term, -1) for term in field_vocab], np.int64)
            mapped = remap[tf.col] if tf.nnz else tf.col.astype(np.int64)
            kept = mapped >= 0  # bm25s' placeholder term "" of empty documents is dropped
            rows.append(tf.row[kept])
            columns.append(mapped[kept])
            values.append(tf.data[kept] * weight)
        combined = sparse.coo_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
            shape=(len(messages), len(vocab)),
        ).tocsc()  # sums a term found in both fields
        combined.sum_duplicates()
        combined.sort_indices()
        df = np.diff(combined.indptr)
        idfs = np.array([idf(int(d), len(messages)) for d in df], np.float64)
        data = (combined.data * np.repeat(idfs, df)).astype(np.float32)
        return cls(
            data,
            combined.indices.astype(np.int32),
            combined.indptr.astype(np.int64),
            vocab,
            len(messages),
        )

    @classmethod
    def merge(cls, parts: list[tuple[KeywordIndex, np.ndarray]]) -> KeywordIndex:
        """One matrix whose rows are each part's ``kept`` rows (a boolean mask), in order.

        Compaction uses it instead of re-running BM25 so that search ranks exactly as before:
        each part's scores keep their own length normalisation, and only the idf baked into
        them is swapped for the merged matrix's (which query time swaps for the global one).
        """
        vocab: dict[str, int] = {}
        rows_out, cols_out, data_out = [], [], []
        offset = 0
        for part, kept in parts:
            new_row = np.cumsum(kept) - 1 + offset  # old row -> row in the merged matrix
            terms = sorted(part.vocab, key=part.vocab.__getitem__)
            column = np.array([vocab.setdefault(t, len(vocab)) for t in terms], dtype=np.int64)
            counts = np.diff(part.indptr)
            old_col = np.repeat(np.arange(counts.size), counts)
            part_idf = np.array([idf(int(c), part.rows) for c in counts], dtype=np.float64)
            keep = kept[part.indices]
            rows_out.append(new_row[part.indices[keep]])
            cols_out.append(column[old_col[keep]])
            # Divide the part's own idf out now; the merged idf is multiplied in below.
            data_out.append(part.data[keep] / part_idf[old_col[keep]])
            offset += int(kept.sum())
        rows = np.concatenate(rows_out) if rows_out else np.zeros(0, np.int64)
        cols = np.concatenate(cols_out) if cols_out else np.zeros(0, np.int64)
        data = np.concatenate(data_out) if data_out else np.zeros(0, np.float64)
        order = np.lexsort((rows, cols))
        rows, cols, data = rows[order], cols[order], data[order]
        df = np.bincount(cols, minlength=len(vocab))
        merged_idf = np.array([idf(int(d), offset) for d in df], dtype=np.float64)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        terms = sorted(vocab, key=vocab.__getitem__)
        return cls(
            (data * merged_idf[cols]).astype(np.float32),
            rows.astype(np.int32),
            indptr,
            terms,
            offset,
        )

    def write(self, path: Path) -> None:
        """Write both files atomically into the segment folder ``path``."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        with atomic.replacing(path / MATRIX) as tmp:
            with open(tmp, "xb") as handle:
                np.savez(
                    handle,
                    data=self.data,
                    indices=self.indices,
                    indptr=self.indptr,
                    rows=np.array([self.rows]),
                )
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
        for term in self._sorted[start : start + MAX_PREFIX_EXPANSION]:
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
