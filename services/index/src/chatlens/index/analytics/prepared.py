"""A selection made ready for the reports once, and kept while its version is asked about.

A report's SQL used to derive, on every request, what does not change between requests on one
version: the local time of each message, which message a reply names (a join on string ids),
and each chat's order (a window sort of a million rows, paid again by every statement that read
``turns``). :func:`prepare` computes them once with Arrow and NumPy and appends them as columns:

    t               the time in the requested zone (naive local timestamp)
    us              UTC microseconds
    row             the place in the frame (the last tie-break of an order)
    reply_row       ``row`` of the message ``reply_to`` names when it is in the frame, else null
    replied         whether ``reply_to`` names an authored message of the frame, and that
    replied_sender  message's sender and time (a native reply without a join)
    replied_us
    tree_root       for an authored message in a reply tree (``analytics.interaction``): the
    tree_depth      ``row`` of the tree's root and the message's depth in it (the root is 1);
                    null elsewhere
    previous_us     for authored messages, in each chat's order (time, seq, row): the previous
    previous_sender authored message's time and sender, the next one's time and the place in
    next_us         the chat (``pos``, from 1); null for system events and at a chat's edges
    pos
    rank            for authored messages, the place in the order of all chats (chat, then
                    time, seq, row), from 0: ``analytics.conversations`` walks it
    mentioned       (frames with the text only) the senders of the selection a message names
                    as ``@name`` (its own sender left out; null: none, or an event, a deleted
                    message or one without a sender): ``analytics.interaction`` counts them

:class:`PreparedFrames` keeps the last few prepared frames by (collection, version, filters,
zone, text): a version never changes, so an entry never goes stale, and a new version is a new
key (the least recently used entry leaves).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

# Events that nobody wrote: joins, pins, renames, group creation.
SYSTEM_KINDS = ("system", "service")
T = TypeVar("T")


def prepare(frame: pa.Table, timezone: str) -> pa.Table:
    """``frame`` with the columns above (Arrow converts a column at once: about 1 ms per 100k
    rows, where DuckDB's per-row ICU conversion took 80 ms per 100k)."""
    count = frame.num_rows
    zoned = frame["sent_at"].cast(pa.timestamp("us", tz=timezone))
    us = frame["sent_at"].cast(pa.int64()).to_numpy()
    # A reply_to naming no message of the frame (another chat filtered out, a deleted one)
    # finds nothing, as the join on ids did.
    reply_row = pc.index_in(frame["reply_to"], value_set=frame["message_id"].combine_chunks())
    authored = ~pc.is_in(
        frame["kind"].cast(pa.string()), value_set=pa.array(SYSTEM_KINDS)
    ).to_numpy(zero_copy_only=False)
    at = reply_row.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    replied = (at >= 0) & authored[np.maximum(at, 0)]
    table = (
        frame.append_column("t", pc.local_timestamp(zoned))
        .append_column("us", pa.array(us, pa.int64()))
        .append_column("row", pa.array(np.arange(count, dtype=np.int64)))
        .append_column("reply_row", reply_row.cast(pa.int64()))
        .append_column("replied", pa.array(replied, pa.bool_()))
        .append_column("replied_sender", frame["sender"].take(pa.array(at, mask=~replied)))
        .append_column("replied_us", pa.array(us[np.maximum(at, 0)], pa.int64(), mask=~replied))
    )
    root, depth = reply_trees(np.where(replied & authored, at, -1))
    table = table.append_column("tree_root", pa.array(root, pa.int64(), mask=root < 0))
    table = table.append_column("tree_depth", pa.array(depth, pa.int64(), mask=root < 0))
    for name, column in turn_columns(frame, us, authored).items():
        table = table.append_column(name, column)
    if "text" in frame.column_names:
        table = table.append_column("mentioned", mentioned(frame, authored))
    return table


# A cycle of replies cannot be reached from a root; the bound only stops a malformed export.
MAX_DEPTH = 10_000


def reply_trees(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's reply tree: the row of its root and its depth (the root 1), -1 and 0 for a
    row in none. ``parent`` is the row a message answers (-1: none; both ends authored).

    A tree's root answers nothing and is answered; every message reached from it through
    replies is in its tree, down to ``MAX_DEPTH`` (a message of a reply cycle is reached from
    no root: in no tree). Found by pointer doubling over the rows in a reply (each step doubles
    how far up every row sees), so a long chain costs a few passes, not one per level.
    """
    count = parent.size
    root = np.full(count, -1, dtype=np.int64)
    depth = np.zeros(count, dtype=np.int64)
    children = np.flatnonzero(parent >= 0)
    if children.size == 0:
        return root, depth
    # The rows that take part, numbered 0..n-1: every child and every parent.
    rows = np.union1d(children, parent[children])
    up = np.searchsorted(rows, parent[rows])  # each one's parent, renumbered
    has_parent = parent[rows] >= 0
    up[~has_parent] = np.flatnonzero(~has_parent)  # a top points at itself
    steps = has_parent.astype(np.int64)
    for _ in range(int(np.ceil(np.log2(rows.size + 1))) + 1):
        above = up[up]
        if np.array_equal(above, up):
            break
        steps = steps + steps[up]
        up = above
    # In a tree: what it reached answers nothing (a cycle never gets there).
    inside = ~has_parent[up] & (steps < MAX_DEPTH)
    root[rows[inside]] = rows[up[inside]]
    depth[rows[inside]] = steps[inside] + 1
    return root, depth


def mentioned(frame: pa.Table, authored: np.ndarray) -> pa.Array:
    """The ``mentioned`` column. Matched here, once per frame: a Python regular expression over
    the messages holding an ``@`` was a fifth of the interaction report's time per request."""
    sender, named = names(frame["sender"])
    senders = sorted({named[c] for c in np.unique(sender[authored & (sender >= 0)])})
    counts = np.zeros(frame.num_rows, dtype=np.int32)  # names per row
    values: list[str] = []
    if not senders:
        return _lists(counts, values)
    # Longest first, so that "@Ana Lúcia" is Ana Lúcia and not Ana; a name ends where no
    # letter or digit follows.
    pattern = regex.compile(
        "@("
        + "|".join(regex.escape(n) for n in sorted(senders, key=len, reverse=True))
        + r")(?![\p{L}\p{N}])",
        regex.IGNORECASE,
    )
    canonical = {n.casefold(): n for n in sorted(senders, reverse=True)}
    deleted = frame["deleted"].fill_null(False).to_numpy(zero_copy_only=False)
    at = pc.match_substring(frame["text"], "@").fill_null(False).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(authored & (sender >= 0) & ~deleted & at)
    texts = frame["text"].take(pa.array(rows)).to_pylist()
    for row, text in zip(rows.tolist(), texts, strict=True):
        own = named[sender[row]]
        said = {canonical.get(match.casefold()) for match in pattern.findall(text)}
        names_said = sorted(n for n in said if n and n != own)
        counts[row] = len(names_said)
        values.extend(names_said)
    return _lists(counts, values)


def _lists(counts: np.ndarray, values: list[str]) -> pa.Array:
    """A list column of ``counts[i]`` of ``values`` per row, in order; null where 0 (built
    from offsets: a million Python lists, most of them None, cost a tenth of a second)."""
    offsets = np.zeros(counts.size + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(values, pa.string()), mask=pa.array(counts == 0)
    )


def names(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """A dictionary column as one code per row (-1 for null) and the names the codes index:
    the rows stay integers (turning a few hundred thousand of them into Python strings cost
    most of this report)."""
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), []
    unified = column.unify_dictionaries()
    codes = np.concatenate(
        [c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in unified.chunks]
    )
    return codes.astype(np.int64), unified.chunk(0).dictionary.to_pylist()


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """One integer per row, equal for equal values (nulls -1), across the column's chunks."""
    encoded = column.cast(pa.string()).combine_chunks().dictionary_encode()
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)


def turn_columns(frame: pa.Table, us: np.ndarray, authored: np.ndarray) -> dict[str, pa.Array]:
    """``previous_us``, ``previous_sender``, ``next_us``, ``pos`` and ``rank`` of the
    ``authored`` rows."""
    count = frame.num_rows
    rows = np.flatnonzero(authored)
    chat = _codes(frame["chat"])[rows]
    seq = frame["seq"].fill_null(0).to_numpy()[rows]
    # Stable sorts, last key first: chat, then time, then seq, then the place in the frame.
    order = rows[np.lexsort((rows, seq, us[rows], chat))]
    chat_sorted = _codes(frame["chat"])[order]
    same = chat_sorted[1:] == chat_sorted[:-1]  # order[i + 1] follows order[i] in its chat
    previous_at = np.full(count, -1, dtype=np.int64)
    previous_at[order[1:][same]] = order[:-1][same]
    next_at = np.full(count, -1, dtype=np.int64)
    next_at[order[:-1][same]] = order[1:][same]
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = ~same
    first = np.maximum.accumulate(np.where(starts, np.arange(order.size), 0))
    pos = np.zeros(count, dtype=np.int64)
    pos[order] = np.arange(order.size) - first + 1
    rank = np.zeros(count, dtype=np.int64)
    rank[order] = np.arange(order.size)
    has_previous, has_next = previous_at >= 0, next_at >= 0
    previous_sender = frame["sender"].take(pa.array(previous_at, mask=~has_previous))
    return {
        "previous_us": pa.array(
            np.where(has_previous, us[previous_at], 0), pa.int64(), mask=~has_previous
        ),
        "previous_sender": previous_sender,
        "next_us": pa.array(np.where(has_next, us[next_at], 0), pa.int64(), mask=~has_next),
        "pos": pa.array(pos, pa.int64(), mask=~authored),
        "rank": pa.array(rank, pa.int64(), mask=~authored),
    }


class PreparedFrames:
    """The last ``capacity`` prepared frames by key, or what a report keeps instead of its frame
    (the language report's tallies); thread-safe. Two threads that miss the same key at once
    both prepare it (the same value); one is kept."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            table = self._items.get(key)
            if table is not None:
                self._items.move_to_end(key)
                return table
        table = make()  # outside the lock: a million rows take a moment
        if self.capacity <= 0:
            return table
        with self._lock:
            self._items[key] = table
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return table
