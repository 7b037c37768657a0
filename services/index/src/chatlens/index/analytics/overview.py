"""The overview: how much, who, when, in one object.

Counts are of authored messages (``sql.SYSTEM_KINDS`` are counted apart as ``system_events``).
Days, hours, weekdays and months are the requested zone's; weekdays are ISO (1 Monday, 7 Sunday).
Ties go to the earliest (day, month) or the smallest (hour, weekday).
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import SYSTEM_KINDS, one


def overview(con: duckdb.DuckDBPyConnection) -> dict:
    totals = one(con, """
        SELECT count(*) AS messages, coalesce(sum(words), 0) AS words,
               count(DISTINCT sender) AS participants, count(DISTINCT chat) AS chats,
               min(sent_at) AS first, max(sent_at) AS last,
               count(DISTINCT t::DATE) AS active_days,
               (max(t)::DATE - min(t)::DATE) + 1 AS span_days,
               count(*) FILTER (media) AS media, count(*) FILTER (link) AS links,
               count(*) FILTER (edited) AS edited, count(*) FILTER (deleted) AS deleted
        FROM authored""") or {}
    kinds = ", ".join(f"'{kind}'" for kind in SYSTEM_KINDS)
    totals["system_events"] = one(
        con, f"SELECT count(*) AS n FROM m WHERE kind IN ({kinds})")["n"]  # type: ignore[index]
    if not totals["messages"]:
        totals.update(span_days=0, average_per_day=0.0, average_per_active_day=0.0,
                      busiest_day=None, busiest_hour=None, busiest_weekday=None,
                      busiest_month=None, longest_streak=None, longest_silence=None)
        return totals
    totals["average_per_day"] = totals["messages"] / totals["span_days"]
    totals["average_per_active_day"] = totals["messages"] / totals["active_days"]
    totals["busiest_day"] = one(con, """
        SELECT t::DATE AS day, count(*) AS messages FROM authored
        GROUP BY day ORDER BY messages DESC, day LIMIT 1""")
    totals["busiest_hour"] = one(con, """
        SELECT hour(t) AS hour, count(*) AS messages FROM authored
        GROUP BY hour ORDER BY messages DESC, hour LIMIT 1""")
    totals["busiest_weekday"] = one(con, """
        SELECT isodow(t) AS weekday, count(*) AS messages FROM authored
        GROUP BY weekday ORDER BY messages DESC, weekday LIMIT 1""")
    totals["busiest_month"] = one(con, """
        SELECT strftime(t, '%Y-%m') AS month, count(*) AS messages FROM authored
        GROUP BY month ORDER BY messages DESC, month LIMIT 1""")
    # Gaps and islands: consecutive days minus their rank is constant along a streak.
    totals["longest_streak"] = one(con, """
        WITH days AS (SELECT DISTINCT t::DATE AS day FROM authored),
             islands AS (SELECT day, day - CAST(row_number() OVER (ORDER BY day) AS INTEGER)
                                 AS island FROM days)
        SELECT min(day) AS first, max(day) AS last, count(*) AS days
        FROM islands GROUP BY island ORDER BY days DESC, first LIMIT 1""")
    totals["longest_silence"] = one(con, """
        SELECT previous AS after, sent_at AS until, sent_at - previous AS seconds
        FROM (SELECT sent_at, lag(sent_at) OVER (ORDER BY sent_at) AS previous FROM authored)
        WHERE previous IS NOT NULL AND sent_at > previous
        ORDER BY seconds DESC, after LIMIT 1""")
    return totals
