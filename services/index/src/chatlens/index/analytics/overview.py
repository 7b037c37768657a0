"""The overview: how much, who, when, in one object.

Counts are of authored messages (``sql.SYSTEM_KINDS`` are counted apart as ``system_events``).
Days, hours, weekdays and months are the requested zone's; weekdays are ISO (1 Monday, 7 Sunday).
Ties go to the earliest (day, month) or the smallest (hour, weekday).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

import duckdb

from chatlens.index.analytics.sql import SYSTEM_KINDS, one, rows


def overview(con: duckdb.DuckDBPyConnection) -> dict:
    kinds = ", ".join(f"'{kind}'" for kind in SYSTEM_KINDS)
    totals = one(con, f"""
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
        FROM m""") or {}
    if not totals["messages"]:
        totals.update(active_days=0, span_days=0, average_per_day=0.0,
                      average_per_active_day=0.0, busiest_day=None, busiest_hour=None,
                      busiest_weekday=None, busiest_month=None, longest_streak=None,
                      longest_silence=None)
        return totals
    # One pass per grain: the days (a few thousand at most) give the busiest day and month,
    # the active days and the streak; the weekday x hour cells the busiest hour and weekday.
    days = [(date.fromisoformat(r["day"]), r["messages"]) for r in rows(con, """
        SELECT t::DATE AS day, count(*) AS messages FROM authored GROUP BY 1 ORDER BY 1""")]
    cells = rows(con, """
        SELECT isodow(t) AS weekday, hour(t) AS hour, count(*) AS messages
        FROM authored GROUP BY 1, 2""")
    span = (days[-1][0] - days[0][0]).days + 1
    totals.update(active_days=len(days), span_days=span,
                  average_per_day=totals["messages"] / span,
                  average_per_active_day=totals["messages"] / len(days),
                  busiest_day=_busiest("day", ((d.isoformat(), n) for d, n in days)),
                  busiest_month=_busiest("month", ((d.strftime("%Y-%m"), n) for d, n in days)),
                  busiest_hour=_busiest("hour", ((c["hour"], c["messages"]) for c in cells)),
                  busiest_weekday=_busiest("weekday",
                                           ((c["weekday"], c["messages"]) for c in cells)),
                  longest_streak=_streak([d for d, _ in days]))
    totals["longest_silence"] = one(con, """
        SELECT make_timestamptz(previous) AS after, make_timestamptz(us) AS until,
               (us - previous) / 1e6 AS seconds
        FROM (SELECT us, lag(us) OVER (ORDER BY us) AS previous FROM authored)
        WHERE previous IS NOT NULL AND us > previous
        ORDER BY seconds DESC, after LIMIT 1""")
    return totals


def _busiest(name: str, counts: Iterable[tuple]) -> dict:
    """The key with the most messages (summed per key); a tie goes to the smallest key."""
    summed: Counter = Counter()
    for key, messages in counts:
        summed[key] += messages
    key, messages = min(summed.items(), key=lambda item: (-item[1], item[0]))
    return {name: key, "messages": messages}


def _streak(days: list[date]) -> dict:
    """The longest run of consecutive active days (``days`` sorted); the earliest on a tie."""
    best = (1, days[0], days[0])
    run_start = days[0]
    for before, day in zip(days, days[1:], strict=False):
        if day - before != timedelta(days=1):
            run_start = day
        length = (day - run_start).days + 1
        if length > best[0]:
            best = (length, run_start, day)
    return {"first": best[1].isoformat(), "last": best[2].isoformat(), "days": best[0]}
