"""An immutable segment: an inner-product FAISS index, its row ids and its message records.

    segments/<id>/vectors.faiss      IndexFlatIP over L2-normalised float32 rows (IP = cosine), or
                                     IndexHNSWFlat for large segments (``storage.ann``)
    segments/<id>/vector_ids.json    row -> message_id
    segments/<id>/messages.jsonl     one ChatMessage per line, in seq order
    segments/<id>/keywords.npz|json  the BM25 matrix and vocabulary (``chatlens.index.keyword``)
    segments/<id>/origins.json       only in a compacted segment: [[source segment id, messages]]
                                     runs, so a message's context stays within its own upload
    segments/<id>/columns.parquet    the message records as columns, for analytics
                                     (``storage.columns``)
    segments/<id>/hubness.npy        per vector row, its mean cosine to its 10 nearest rows
                                     (``storage.hubness``; absent in older segments)

Once its version is committed a segment is never modified, which is what lets readers cache it
forever (:class:`SegmentCache`) and Git store it once however many versions name it.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa

from chatlens.index.filters import Codes, Columns
from chatlens.index.keyword import MATRIX as KEYWORD_MATRIX
from chatlens.index.keyword import KeywordIndex
from chatlens.index.storage import ann as ann_index
from chatlens.index.storage import atomic
from chatlens.index.storage import columns as column_file
from chatlens.index.storage import hubness as hubness_file
from chatlens.index.storage.records import Records
from chatlens.shared.compute import lower_thread_priority
from chatlens.shared.schemas import ChatMessage

VECTORS = "vectors.faiss"
VECTOR_IDS = "vector_ids.json"
MESSAGES = "messages.jsonl"
ORIGINS = "origins.json"
BACKFILL_NICENESS = 10  # the hubness of an older HNSW segment yields the cores to searches

log = logging.getLogger(__name__)


def write_segment(
    path: Path,
    messages: list[ChatMessage],
    vector_ids: list[str],
    vectors: np.ndarray,
    ann: ann_index.AnnConfig | None = None,
    keywords: KeywordIndex | None = None,
    origins: list[tuple[str, int]] | None = None,
    hubness: np.ndarray | None = None,
) -> None:
    """Write a segment folder; ``vectors`` must already be normalised, one row per vector id.

    ``ann`` decides exact or HNSW (exact when None); ``keywords`` is a ready BM25 matrix (a
    compaction merges its sources'), built from ``messages`` when None; ``origins`` are the
    (source segment, message count) runs of a compacted segment; ``hubness`` the rows' own
    (carried from the segments a compaction or purge rewrites), computed here when None.
    """
    if vectors.shape[0] != len(vector_ids):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(vector_ids)} ids")
    path.mkdir(parents=True, exist_ok=True)
    atomic.fsync_dir(path.parent)
    index = ann_index.build_index(vectors, ann)
    # faiss.write_index writes its file in place: give it a temporary name, then rename.
    with atomic.replacing(path / VECTORS) as tmp:
        faiss.write_index(index, str(tmp))
    hubness_file.write(
        path, hubness if hubness is not None else hubness_file.compute(index, vectors)
    )
    atomic.write_json(path / VECTOR_IDS, vector_ids)
    (keywords if keywords is not None else KeywordIndex.build(messages)).write(path)
    if origins is not None:
        atomic.write_json(path / ORIGINS, [[source, count] for source, count in origins])
    column_file.write(path, messages)
    # The message records last: a segment folder with them is complete.
    lines = "".join(message.model_dump_json() + "\n" for message in messages)
    atomic.write_bytes(path / MESSAGES, lines.encode("utf-8"))


class Segment:
    """A loaded segment: search its vectors, find a message and its neighbours in the chat."""

    def __init__(
        self,
        segment_id: str,
        index: faiss.Index,
        vector_ids: list[str],
        messages: Sequence[ChatMessage],
        keywords: KeywordIndex | None = None,
        origins: list[tuple[str, int]] | None = None,
        table: pa.Table | None = None,
        hubness: np.ndarray | None = None,
    ) -> None:
        """``messages`` is a list (a segment made in memory) or a loaded segment's
        :class:`~chatlens.index.storage.records.Records`, parsed only where a message is read:
        everything built here comes from ``table``, the records as columns."""
        self.id, self.index = segment_id, index
        # ``ann`` answers unfiltered and broadly filtered searches; ``exact`` (the HNSW's own
        # flat storage, or the flat index itself) answers narrow filters and small segments.
        self.ann, self.exact = ann_index.split(index)
        self.vector_ids, self.messages = vector_ids, messages
        # Per vector row (``storage.hubness``); None in a segment sealed without it.
        self.hubness = hubness
        # The records as Arrow columns (analytics, filters); built here for a segment made in
        # memory.
        self.table = table if table is not None else column_file.table_of(list(messages))
        if self.table.num_rows != len(messages):
            raise ValueError(
                f"segment {segment_id}: {self.table.num_rows} column rows, {len(messages)} messages"
            )
        # Segments sealed before keyword search existed get their BM25 matrix built on load.
        self.keywords = keywords if keywords is not None else KeywordIndex.build(messages)
        self.columns = Columns.of_table(self.table)
        self._position = {
            message_id: i for i, message_id in enumerate(self.table["message_id"].to_pylist())
        }
        # Vector row -> position in ``messages``, to apply message filters to vector rows.
        self.row_positions = np.array([self._position[v] for v in vector_ids], dtype=np.int64)
        # ``sources[i]``: the sealed segment message i came from (this one, unless compacted).
        count = len(messages)
        self.sources = [segment_id] * count
        if origins:
            self.sources = [name for name, size in origins for _ in range(size)]
            if len(self.sources) != count:
                raise ValueError(
                    f"segment {segment_id}: origins name {len(self.sources)} "
                    f"messages, it has {count}"
                )
        self._group_chats(origins)

    def _group_chats(self, origins: list[tuple[str, int]] | None) -> None:
        """Per chat, positions in seq order (``_chats``), and each position's chat (``_chat_of``)
        and place in it (``_place``). In a compacted segment a chat is split by origin, so
        context is what it was before. Arrays, not a dict per message: a million messages."""
        count = self.table.num_rows
        origin = np.zeros(count, dtype=np.int64)
        if origins:
            origin = np.repeat(np.arange(len(origins)), [size for _, size in origins])
        chat = Codes.of_column(self.table["chat"]).codes
        seq = self.table["seq"].to_numpy()
        # Stable: equal seqs keep their order in the segment, as the sort of a list did.
        order = np.lexsort((seq, chat, origin))
        key = origin[order] * (int(chat.max(initial=0)) + 1) + chat[order]
        bounds = np.flatnonzero(np.diff(key)) + 1
        self._chats = np.split(order, bounds) if count else []
        starts = np.concatenate(([0], bounds)) if count else np.empty(0, np.int64)
        sizes = np.diff(np.append(starts, count))
        self._chat_of = np.empty(count, dtype=np.int64)
        self._place = np.empty(count, dtype=np.int64)
        self._chat_of[order] = np.repeat(np.arange(starts.size), sizes)
        self._place[order] = np.arange(count) - np.repeat(starts, sizes)

    @classmethod
    def load(cls, path: Path, derived: Path | None = None) -> Segment:
        """The segment in ``path``; ``derived`` is where what is derived for an older segment is
        kept between loads (``storage.derived``), if anywhere: its columns, and the hubness of
        a flat segment sealed without it (an HNSW one's is left to ``SegmentCache``)."""
        index = faiss.read_index(str(path / VECTORS))
        vector_ids = json.loads((path / VECTOR_IDS).read_text(encoding="utf-8"))
        messages = Records(path / MESSAGES)
        if index.ntotal != len(vector_ids):
            raise ValueError(f"segment {path}: {index.ntotal} vectors but {len(vector_ids)} ids")
        keywords = KeywordIndex.load(path) if (path / KEYWORD_MATRIX).exists() else None
        if keywords is not None and keywords.rows != len(messages):
            raise ValueError(
                f"segment {path}: {keywords.rows} keyword rows, {len(messages)} messages"
            )
        hubness = hubness_file.load(path, index.ntotal)
        if hubness is None and derived is not None and ann_index.split(index)[0] is None:
            hubness = hubness_file.derived_for(path / VECTORS, index, derived / "hubness")
        origins = None
        if (path / ORIGINS).exists():
            origins = [
                (str(name), int(count))
                for name, count in json.loads((path / ORIGINS).read_text("utf-8"))
            ]
        return cls(
            path.name,
            index,
            vector_ids,
            messages,
            keywords,
            origins,
            column_file.load(
                path, messages, derived / "columns" if derived else None, source=path / MESSAGES
            ),
            hubness,
        )

    @property
    def message_ids(self) -> set[str]:
        return set(self._position)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[float, int]]:
        """The best ``k`` vector rows for one normalised query, as (score, row), best first.

        ``allowed`` is a boolean mask over the segment's *messages* (a filter): only rows whose
        message it allows are searched, inside faiss (an ``IDSelectorBitmap``), so the answer is
        the top-k of the filtered rows, not a filtered top-k. In an HNSW segment a filter
        allowing less than ``EXACT_BELOW_SHARE`` of the rows is answered by an exact scan of
        those rows (``storage.ann`` says why); a broader one walks the graph with the selector.
        """
        params = None
        index = self.ann if self.ann is not None else self.exact
        if query.dtype != np.float32:
            query = query.astype(np.float32)
        if allowed is not None:
            rows = allowed[self.row_positions]
            count = int(rows.sum())
            if count == 0:
                return []
            k = min(k, count)
            narrow = count < ann_index.EXACT_BELOW_SHARE * rows.size
            if self.ann is not None and narrow:
                # Score only the allowed rows, straight from the HNSW's flat storage.
                return ann_index.exact_top_k(self.exact, np.flatnonzero(rows), query, k)
            if count < rows.size:
                # Bit i of the bitmap allows row i; ``bitmap`` must outlive the search (faiss
                # keeps a pointer), which this local guarantees.
                bitmap = np.packbits(rows, bitorder="little")
                selector = faiss.IDSelectorBitmap(bitmap.size, faiss.swig_ptr(bitmap))
                if self.ann is not None:
                    params = faiss.SearchParametersHNSW(
                        sel=selector, efSearch=self.ann.hnsw.efSearch
                    )
                else:
                    params = faiss.SearchParameters(sel=selector)
        k = min(k, self.index.ntotal)
        if k == 0:
            return []
        scores, found = index.search(query.reshape(1, -1), k, params=params)
        return [(float(s), int(r)) for s, r in zip(scores[0], found[0], strict=True) if r >= 0]

    def position_of(self, message_id: str) -> int:
        return self._position[message_id]

    def message_at_row(self, row: int) -> ChatMessage:
        return self.messages[self._position[self.vector_ids[row]]]

    def context(
        self, message_id: str, n: int, deleted: AbstractSet[str] = frozenset()
    ) -> list[ChatMessage]:
        """Up to ``n`` messages before and ``n`` after ``message_id`` in its chat, by seq,
        passing over ``deleted`` ones (a version's tombstones)."""
        if n == 0:
            return []
        position = self._position[message_id]
        positions = self._chats[self._chat_of[position]].tolist()
        place = int(self._place[position])
        if not deleted:
            around = positions[max(0, place - n) : place] + positions[place + 1 : place + 1 + n]
            return [self.messages[i] for i in around]
        ids = self.table["message_id"]
        alive = (i for i in reversed(positions[:place]) if ids[i].as_py() not in deleted)
        before = list(itertools.islice(alive, n))[::-1]
        alive = (i for i in positions[place + 1 :] if ids[i].as_py() not in deleted)
        return [self.messages[i] for i in [*before, *itertools.islice(alive, n)]]

    def ids(self) -> list[str]:
        """Every message id, in position order (from the columns: no message is parsed)."""
        return self.table["message_id"].to_pylist()


class SegmentCache:
    """Loaded segments by folder, least recently used dropped first. Thread-safe.

    Keyed by the segment's path (org, collection and id), so equal ids in two collections
    never meet. Segments are immutable, so an entry never goes stale.
    """

    def __init__(
        self,
        capacity: int = 256,
        on_load: Callable[[Path, float], None] | None = None,
        derived: Path | None = None,
    ) -> None:
        self.capacity = capacity
        # Where what is derived for older segments is kept (Layout.derived; storage.derived).
        self.derived = derived
        # Computes the hubness of HNSW segments sealed without it, one at a time, at a lower
        # CPU priority than searches (a million rows: minutes of a core).
        self._backfill: ThreadPoolExecutor | None = None
        # Told each load's folder and seconds (the per-collection load-time metric).
        self.on_load = on_load
        self._items: OrderedDict[Path, Segment] = OrderedDict()
        # Folders being loaded, each with the event its waiting readers are woken by.
        self._loading: dict[Path, threading.Event] = {}
        self._lock = threading.Lock()

    def _derive_hubness_later(self, path: Path, segment: Segment) -> None:
        assert self.derived is not None
        cache = self.derived / "hubness"

        def derive() -> None:
            lower_thread_priority(BACKFILL_NICENESS)
            try:
                segment.hubness = hubness_file.derived_for(path / VECTORS, segment.index, cache)
            except Exception:  # the segment still answers, uncorrected
                log.exception("could not compute a segment's hubness", extra={"path": str(path)})
                return
            log.info("hubness computed for a segment sealed without it", extra={"path": str(path)})

        with self._lock:
            if self._backfill is None:
                self._backfill = ThreadPoolExecutor(1, thread_name_prefix="hubness")
            self._backfill.submit(derive)

    def discard(self, path: Path) -> None:
        """Forget a segment whose folder is gone (a purge rewrote it): its text leaves memory."""
        with self._lock:
            self._items.pop(path, None)

    def get(self, path: Path) -> Segment:
        """The segment in ``path``, loaded once however many threads ask for it at once: the
        first loads it (outside the lock: loading may take a while), the others wait for it
        rather than each holding a copy of the same segment in memory."""
        while True:
            with self._lock:
                segment = self._items.get(path)
                if segment is not None:
                    self._items.move_to_end(path)
                    return segment
                loading = self._loading.get(path)
                if loading is None:
                    loading = self._loading[path] = threading.Event()
                    break
            # Another thread is loading it: take its result, or load it here if that failed.
            loading.wait()
        try:
            started = time.perf_counter()
            segment = Segment.load(path, self.derived)
            if self.on_load is not None:
                self.on_load(path, time.perf_counter() - started)
            if segment.hubness is None and self.derived is not None:
                self._derive_hubness_later(path, segment)
            with self._lock:
                self._items[path] = segment
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
            return segment
        finally:
            with self._lock:
                del self._loading[path]
            loading.set()
