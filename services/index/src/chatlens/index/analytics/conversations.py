"""Conversations: each chat's messages split where a silence exceeds the gap (``sql.turns``).

How many there are, how long they run (messages per conversation, in buckets), who starts and who
ends them, and the longest (most messages; ties go to the earliest).
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import histogram, one, rows

# Messages per conversation: [edge, next edge) per bucket, the last one open.
SIZE_EDGES = (1, 2, 3, 6, 11, 21, 51, 101)


def conversations(con: duckdb.DuckDBPyConnection, gap_minutes: int, top: int) -> dict:
    con.execute("""
        CREATE TEMP TABLE sessions AS
        SELECT chat, session, count(*) AS messages, count(DISTINCT sender) AS participants,
               min(sent_at) AS started_at, max(sent_at) AS ended_at,
               arg_min(sender, (sent_at, seq, message_id)) AS started_by,
               arg_max(sender, (sent_at, seq, message_id)) AS ended_by
        FROM turns GROUP BY chat, session""")
    totals = one(con, """
        SELECT count(*) AS count, coalesce(sum(messages), 0) AS messages,
               median(messages) AS median_messages,
               median(epoch(ended_at) - epoch(started_at)) AS median_seconds
        FROM sessions""")
    sizes = histogram(con, "messages", "sessions", SIZE_EDGES, "conversations")
    starters = rows(con, f"""
        SELECT started_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""")
    enders = rows(con, f"""
        SELECT ended_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""")
    longest = one(con, """
        SELECT chat, messages, participants, started_at, ended_at, started_by, ended_by,
               epoch(ended_at) - epoch(started_at) AS seconds
        FROM sessions ORDER BY messages DESC, started_at, chat LIMIT 1""")
    return {**(totals or {}), "gap_minutes": gap_minutes, "sizes": sizes,
            "started_by": starters, "ended_by": enders, "longest": longest}
