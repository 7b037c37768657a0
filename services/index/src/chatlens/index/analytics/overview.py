"""The overview: how much, who, when, in one object.

Counts are of authored messages (``sql.SYSTEM_KINDS`` are counted apart as ``system_events``).
Days, hours, weekdays and months are the requested zone's; weekdays are ISO (1 Monday, 7 Sunday).
Ties go to the earliest (day, month) or the smallest (hour, weekday).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np

from chatlens.index.analytics.sql import SYSTEM_KINDS, one, rows

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = date(1970, 1, 1)


def overview(con: duckdb.DuckDBPyConnection) -> dict:
    kinds = ", ".join(f"'{kind}'" for kind in SYSTEM_KINDS)
    totals = (
        one(
            con,
            f"""
        SELECT count(*) FILTER (kind NOT IN ({kinds})) AS messages,
               coalesce(sum(words) FILTER (kind NOT IN ({kinds})), 0) AS words,
               count(DISTINCT sender) FILTER (kind NOT IN ({kinds})) AS participants,
               count(DISTINCT chat) FILTER (kind NOT IN ({kinds})) AS chats,
               min(sent_at) FILTER (kind NOT IN ({kinds})) AS first,
               max(sent_at) FILTER (kind NOT IN ({kinds})) AS last,
               count(*) FILTER (media AND kind NOT IN ({kinds})) AS media,
               count(*) FILTER (link AND kind NOT IN ({kinds})) AS links,
               count(*) FILTER (edited AND kind NOT IN ({kinds})) AS edited,
               count(*) FILTER (deleted AND kind NOT IN ({kinds})) AS deleted,
               count(*) FILTER (kind IN ({kinds})) AS system_events
        FROM m""",
        )
        or {}
    )
    if not totals["messages"]:
        totals.update(
            active_days=0,
            span_days=0,
            average_per_day=0.0,
            average_per_active_day=0.0,
            busiest_day=None,
            busiest_hour=None,
            busiest_weekday=None,
            busiest_month=None,
            longest_streak=None,
            longest_silence=None,
        )
        return totals
    # One pass per grain: the days (NumPy day numbers: a few thousand, tens of thousands at
    # most) give the busiest day and month, the active days and the streak; the weekday x hour
    # cells the busiest hour and weekday.
    found = con.execute("""
        SELECT t::DATE - DATE '1970-01-01' AS day, count(*) AS messages
        FROM authored GROUP BY 1 ORDER BY 1""").fetchnumpy()
    days = np.asarray(found["day"], dtype=np.int64)
    counts = np.asarray(found["messages"], dtype=np.int64)
    cells = rows(
        con,
        """
        SELECT isodow(t) AS weekday, hour(t) AS hour, count(*) AS messages
        FROM authored GROUP BY 1, 2""",
    )
    span = int(days[-1] - days[0]) + 1
    totals.update(
        active_days=len(days),
        span_days=span,
        average_per_day=totals["messages"] / span,
        average_per_active_day=totals["messages"] / len(days),
        busiest_day=_busiest_day(days, counts),
        busiest_month=_busiest_month(days, counts),
        busiest_hour=_busiest("hour", ((c["hour"], c["messages"]) for c in cells)),
        busiest_weekday=_busiest("weekday", ((c["weekday"], c["messages"]) for c in cells)),
        longest_streak=_streak(days),
    )
    totals["longest_silence"] = _longest_silence(
        con.execute("SELECT us FROM authored").fetchnumpy()["us"]
    )
    return totals


def _longest_silence(us: np.ndarray) -> dict | None:
    """The longest wait between two consecutive authored messages (the earliest on a tie).

    NumPy, not a window in SQL: the rows come mostly in time order already, and a stable sort
    (timsort) of nearly sorted times is close to one pass, where DuckDB sorted a million rows.
    """
    times = np.sort(np.asarray(us, dtype=np.int64), kind="stable")
    if times.size < 2:
        return None
    gaps = np.diff(times)
    at = int(np.argmax(gaps))  # the first of the longest: the earliest
    if gaps[at] <= 0:
        return None
    return {
        "after": _utc(times[at]),
        "until": _utc(times[at + 1]),
        "seconds": float(gaps[at]) / 1e6,
    }


def _utc(us: np.int64) -> str:
    return (EPOCH + timedelta(microseconds=int(us))).isoformat()


def _busiest(name: str, counts: Iterable[tuple]) -> dict:
    """The key with the most messages (summed per key); a tie goes to the smallest key."""
    summed: Counter = Counter()
    for key, messages in counts:
        summed[key] += messages
    key, messages = min(summed.items(), key=lambda item: (-item[1], item[0]))
    return {name: key, "messages": messages}


def _day(number: np.int64) -> date:
    return EPOCH_DAY + timedelta(days=int(number))


def _busiest_day(days: np.ndarray, counts: np.ndarray) -> dict:
    at = int(np.argmax(counts))  # the first of the busiest: the earliest (days are sorted)
    return {"day": _day(days[at]).isoformat(), "messages": int(counts[at])}


def _busiest_month(days: np.ndarray, counts: np.ndarray) -> dict:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    totals = np.add.reduceat(counts, starts)
    at = int(np.argmax(totals))  # the earliest month on a tie
    return {"month": str(months[starts[at]]), "messages": int(totals[at])}


def _streak(days: np.ndarray) -> dict:
    """The longest run of consecutive active days (``days`` sorted day numbers); the earliest
    on a tie."""
    starts = np.flatnonzero(np.r_[True, np.diff(days) != 1])
    lengths = np.diff(np.r_[starts, days.size])
    at = int(np.argmax(lengths))
    first = int(starts[at])
    last = first + int(lengths[at]) - 1
    return {
        "first": _day(days[first]).isoformat(),
        "last": _day(days[last]).isoformat(),
        "days": int(lengths[at]),
    }
