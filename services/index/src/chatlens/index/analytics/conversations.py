"""Conversations: each chat's messages split where a silence exceeds the gap (``sql.turns``).

How many there are, how long they run (messages per conversation, in buckets), who starts and who
ends them, who breaks the ice (starts one after a day or more of silence in the chat; a chat's
first message breaks none), and the longest (most messages; ties go to the earliest).
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import histogram, one, rows, turns

# An ice-breaker starts a conversation after a silence in its chat of more than this.
ICE_BREAK_HOURS = 24
# Messages per conversation: [edge, next edge) per bucket, the last one open.
SIZE_EDGES = (1, 2, 3, 6, 11, 21, 51, 101)


def conversations(con: duckdb.DuckDBPyConnection, gap_minutes: int, top: int) -> dict:
    turns(con)
    # The first and last messages of every conversation, kept (a few per cent of the rows):
    # the k-th start of a chat and its k-th end bound its k-th conversation.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE bounds AS
        SELECT chat, pos, sent_at, sender, starts, ends, us - previous_us AS silence_us
        FROM turns WHERE starts OR ends""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE sessions AS
        WITH firsts AS (SELECT chat, pos, sent_at, sender,
                               row_number() OVER (PARTITION BY chat ORDER BY pos) AS k
                        FROM bounds WHERE starts),
             lasts AS (SELECT chat, pos, sent_at, sender,
                              row_number() OVER (PARTITION BY chat ORDER BY pos) AS k
                       FROM bounds WHERE ends)
        SELECT firsts.chat, firsts.pos AS first_pos, lasts.pos AS last_pos,
               lasts.pos - firsts.pos + 1 AS messages,
               firsts.sent_at AS started_at, lasts.sent_at AS ended_at,
               firsts.sender AS started_by, lasts.sender AS ended_by
        FROM firsts JOIN lasts USING (chat, k)""")
    totals = one(
        con,
        """
        SELECT count(*) AS count, coalesce(sum(messages), 0) AS messages,
               median(messages) AS median_messages,
               median(epoch(ended_at) - epoch(started_at)) AS median_seconds
        FROM sessions""",
    )
    sizes = histogram(con, "messages", "sessions", SIZE_EDGES, "conversations")
    starters = rows(
        con,
        f"""
        SELECT started_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
    )
    enders = rows(
        con,
        f"""
        SELECT ended_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
    )
    ice_breakers = rows(
        con,
        f"""
        SELECT sender, count(*) AS conversations FROM bounds
        WHERE starts AND silence_us > {ICE_BREAK_HOURS * 3_600_000_000}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
    )
    longest = one(
        con,
        """
        SELECT chat, messages, started_at, ended_at, started_by, ended_by,
               epoch(ended_at) - epoch(started_at) AS seconds, first_pos, last_pos
        FROM sessions ORDER BY messages DESC, started_at, chat LIMIT 1""",
    )
    if longest is not None:
        longest["participants"] = one(
            con,
            """
            SELECT count(DISTINCT sender) AS n FROM turns
            WHERE chat = ? AND pos BETWEEN ? AND ?""",
            [longest["chat"], longest.pop("first_pos"), longest.pop("last_pos")],
        )["n"]
    return {
        **(totals or {}),
        "gap_minutes": gap_minutes,
        "sizes": sizes,
        "started_by": starters,
        "ended_by": enders,
        "longest": longest,
        "ice_breakers": ice_breakers,
        "ice_break_hours": ICE_BREAK_HOURS,
    }
