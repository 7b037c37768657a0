"""Conversations: each chat's messages split where a silence exceeds the gap (``sql.turns``).

How many there are, how long they run (messages per conversation, in buckets), who starts and who
ends them, who breaks the ice (starts one after a day or more of silence in the chat; a chat's
first message breaks none), and the longest (most messages; ties go to the earliest, then the
chat's name).

Computed with NumPy over the prepared frame's columns rather than in SQL: the authored messages
in the order of all chats (``rank``, found once per frame by ``prepared.turn_columns``) are one
walk, where a conversation starts after a silence longer than the request's gap and ends before
one; the k-th start and the k-th end of that walk bound the k-th conversation. Two DuckDB scans
and a window sort of the bounds cost 0.3 to 0.4 s of CPU at a million messages; this, a few
hundredths.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chatlens.index.analytics.prepared import names

# An ice-breaker starts a conversation after a silence in its chat of more than this.
ICE_BREAK_HOURS = 24
# Messages per conversation: [edge, next edge) per bucket, the last one open.
SIZE_EDGES = (1, 2, 3, 6, 11, 21, 51, 101)


def _ints(column: pa.ChunkedArray, missing: int) -> np.ndarray:
    return column.fill_null(missing).to_numpy()


def ranked(codes: np.ndarray, named: list, top: int) -> list[dict]:
    """``[{sender, conversations}]`` of the rows' ``codes``: most first, then by name (no
    name last), ``top`` long."""
    counts: Counter = Counter()
    for code, n in enumerate(np.bincount(codes + 1, minlength=len(named) + 1).tolist()):
        if n:  # by name: a person's names may be two codes of one name (``frame.as_people``)
            counts[None if code == 0 else named[code - 1]] += n
    found = [(n, name) for name, n in counts.items()]
    found.sort(key=lambda item: (-item[0], item[1] is None, item[1] or ""))
    return [{"sender": s, "conversations": n} for n, s in found[: int(top)]]


def conversations(frame: pa.Table, gap_minutes: int, top: int) -> dict:
    """The conversations of the prepared ``frame`` (``prepared.prepare``) at ``gap_minutes``."""
    gap = int(gap_minutes) * 60_000_000
    authored = pc.is_valid(frame["rank"]).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(authored)
    order = np.empty(rows.size, dtype=np.int64)  # the authored rows in the order of all chats
    order[_ints(frame["rank"], 0)[rows]] = rows
    us = frame["us"].to_numpy()
    previous = _ints(frame["previous_us"], -1)[order]
    following = _ints(frame["next_us"], -1)[order]
    at = us[order]
    starts = (previous < 0) | (at - previous > gap)
    ends = (following < 0) | (following - at > gap)
    first, last = np.flatnonzero(starts), np.flatnonzero(ends)
    sizes = last - first + 1
    count = int(first.size)
    # As DuckDB's epoch(ended_at) - epoch(started_at): each in seconds first.
    seconds = at[last] / 1e6 - at[first] / 1e6
    sender, named = names(frame["sender"])
    started_by, ended_by = sender[order[first]], sender[order[last]]
    # A chat's first message starts a conversation after no silence: it breaks no ice.
    breaking = first[
        (previous[first] >= 0) & (at[first] - previous[first] > ICE_BREAK_HOURS * 3_600_000_000)
    ]
    counted = np.bincount(np.searchsorted(SIZE_EDGES, sizes, side="right") - 1, minlength=8)
    longest = None
    if count:
        most = np.flatnonzero(sizes == sizes.max())
        chats = frame["chat"].take(pa.array(order[first[most]])).to_pylist()
        # Ties go to the earliest start, then the chat's name.
        k = int(most[min(range(most.size), key=lambda i: (at[first[most[i]]], chats[i]))])
        inside = sender[order[first[k] : last[k] + 1]]
        longest = {
            "chat": frame["chat"].take(pa.array([order[first[k]]]))[0].as_py(),
            "messages": int(sizes[k]),
            "started_at": _iso(at[first[k]]),
            "ended_at": _iso(at[last[k]]),
            "started_by": _name(named, started_by[k]),
            "ended_by": _name(named, ended_by[k]),
            "seconds": float(seconds[k]),
            # Distinct names, not codes: two codes of one name (a person's) are one sender.
            "participants": len({named[c] for c in np.unique(inside[inside >= 0])}),
        }
    return {
        "count": count,
        "messages": int(sizes.sum()),
        "median_messages": median(sizes),
        "median_seconds": median(seconds),
        "gap_minutes": gap_minutes,
        "sizes": [
            {
                "min": SIZE_EDGES[i],
                "max": SIZE_EDGES[i + 1] - 1 if i + 1 < len(SIZE_EDGES) else None,
                "conversations": int(counted[i]),
            }
            for i in range(len(SIZE_EDGES))
        ],
        "started_by": ranked(started_by, named, top),
        "ended_by": ranked(ended_by, named, top),
        "longest": longest,
        "ice_breakers": ranked(sender[order[breaking]], named, top),
        "ice_break_hours": ICE_BREAK_HOURS,
    }


def median(values: np.ndarray) -> float | None:
    """DuckDB's ``median``: the middle value, or between the two middle ones ``lo + (hi - lo)
    / 2`` (its interpolation, to the last bit); None for none."""
    if values.size == 0:
        return None
    ordered = np.sort(values.astype(np.float64))
    lo, hi = ordered[(values.size - 1) // 2], ordered[values.size // 2]
    return float(lo + (hi - lo) * 0.5)


def _name(named: list, code: int) -> str | None:
    return None if code < 0 else named[code]


def _iso(us: int) -> str:
    """UTC microseconds as the reports write a time (``sql.jsonable``)."""
    return pa.scalar(int(us), pa.timestamp("us", tz="UTC")).as_py().isoformat()
