"""The conversations and interaction reports as they were first written: every statement derives
what it needs from the rows (native replies joined on string ids, reply trees followed by a
recursive join, conversations bounded by window numberings), with nothing precomputed per
frame. Slow at a million messages, plain to read: the fast reports must give exactly these
answers (``test_analytics_fast_paths``)."""

from __future__ import annotations

from collections import Counter

import duckdb
import regex

from chatlens.index.analytics.interaction import reactions, threads
from chatlens.index.analytics.sql import histogram, one, rows, turns

ICE_BREAK_HOURS = 24
SIZE_EDGES = (1, 2, 3, 6, 11, 21, 51, 101)
MAX_DEPTH = 10_000


def conversations(con: duckdb.DuckDBPyConnection, gap_minutes: int, top: int) -> dict:
    turns(con)
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
    top = int(top)
    starters = rows(
        con,
        f"""SELECT started_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {top}""",
    )
    enders = rows(
        con,
        f"""SELECT ended_by AS sender, count(*) AS conversations FROM sessions
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {top}""",
    )
    ice_breakers = rows(
        con,
        f"""SELECT sender, count(*) AS conversations FROM bounds
        WHERE starts AND silence_us > {ICE_BREAK_HOURS * 3_600_000_000}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {top}""",
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
            """SELECT count(DISTINCT sender) AS n FROM turns
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


def interaction(con: duckdb.DuckDBPyConnection, top: int, bucket: str = "month") -> dict:
    turns(con)
    replies = rows(
        con,
        """
        SELECT r.sender AS sender, o.sender AS recipient, count(*) AS count,
               median((r.us - o.us) / 1e6) AS median_seconds
        FROM authored r JOIN authored o ON r.reply_to = o.message_id
        WHERE r.sender IS NOT NULL AND o.sender IS NOT NULL
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
    )
    responses = rows(
        con,
        """
        SELECT sender, previous_sender AS recipient, count(*) AS count,
               median((us - previous_us) / 1e6) AS median_seconds
        FROM turns
        WHERE NOT starts AND sender IS NOT NULL AND previous_sender IS NOT NULL
              AND sender <> previous_sender
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
    )
    over_time = rows(
        con,
        f"""
        WITH native AS (
            SELECT date_trunc('{bucket}', r.t)::DATE AS bucket, count(*) AS replies
            FROM authored r JOIN authored o ON r.reply_to = o.message_id
            WHERE r.sender IS NOT NULL AND o.sender IS NOT NULL GROUP BY 1),
        turn AS (
            SELECT date_trunc('{bucket}', t)::DATE AS bucket, count(*) AS responses,
                   median((us - previous_us) / 1e6) AS median_response_seconds
            FROM turns
            WHERE NOT starts AND sender IS NOT NULL AND previous_sender IS NOT NULL
                  AND sender <> previous_sender GROUP BY 1)
        SELECT bucket, coalesce(replies, 0) AS replies, coalesce(responses, 0) AS responses,
               median_response_seconds
        FROM native FULL OUTER JOIN turn USING (bucket) ORDER BY bucket""",
    )
    return {
        "replies": replies,
        "responses": responses,
        "over_time": over_time,
        "bucket": bucket,
        "mentions": mentions(con),
        "threads": threads(con, top),
        "reply_trees": reply_trees(con, top),
        "reactions": reactions(con, top),
    }


def mentions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """``@name`` of a sender in the selection, in the messages that have an ``@`` at all."""
    names = [
        r["sender"]
        for r in rows(
            con,
            """
        SELECT DISTINCT sender FROM authored WHERE sender IS NOT NULL""",
        )
    ]
    if not names:
        return []
    # Longest first, so that "@Ana Lúcia" is Ana Lúcia and not Ana; a name ends where no
    # letter or digit follows.
    pattern = regex.compile(
        "@("
        + "|".join(regex.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?![\p{L}\p{N}])",
        regex.IGNORECASE,
    )
    canonical = {n.casefold(): n for n in sorted(names, reverse=True)}
    counted: Counter = Counter()
    found = con.execute("""
        SELECT sender, text FROM authored
        WHERE sender IS NOT NULL AND NOT deleted AND contains(text, '@')""")
    while batch := found.fetchmany(10_000):
        for sender, text in batch:
            named = {canonical.get(match.casefold()) for match in pattern.findall(text)}
            counted.update((sender, name) for name in named if name and name != sender)
    return [
        {"sender": sender, "recipient": recipient, "count": count}
        for (sender, recipient), count in sorted(
            counted.items(), key=lambda item: (-item[1], item[0])
        )
    ]


def reply_trees(con: duckdb.DuckDBPyConnection, top: int) -> dict:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE trees AS
        WITH RECURSIVE edges AS (
            SELECT r.message_id, r.reply_to AS parent FROM authored r
            JOIN authored p ON r.reply_to = p.message_id),
        tree(message_id, root, depth) AS (
            SELECT DISTINCT parent, parent, 1 FROM edges
            WHERE parent NOT IN (SELECT message_id FROM edges)
            UNION ALL
            SELECT edges.message_id, tree.root, tree.depth + 1
            FROM tree JOIN edges ON edges.parent = tree.message_id
            WHERE tree.depth < {MAX_DEPTH})
        SELECT root, count(*) AS messages, max(depth) AS depth FROM tree GROUP BY root""")
    totals = (
        one(
            con,
            """SELECT count(*) AS count, coalesce(sum(messages), 0) AS messages,
               max(depth) AS deepest FROM trees""",
        )
        or {}
    )
    longest = rows(
        con,
        f"""
        SELECT trees.root AS message_id, a.chat, a.sender, a.sent_at AS started_at,
               trees.depth, trees.messages
        FROM trees JOIN authored a ON a.message_id = trees.root
        ORDER BY trees.depth DESC, trees.messages DESC, a.us, trees.root LIMIT {int(top)}""",
    )
    return {**totals, "longest": longest}


def language_selection(con: duckdb.DuckDBPyConnection) -> dict:
    """The language report's ``messages`` and ``detected``, each a scan of every row."""
    total = con.execute("SELECT count(*) FROM authored WHERE NOT deleted AND chars > 0").fetchone()[
        0
    ]
    detected = rows(
        con,
        """
        SELECT language, count(*)::BIGINT AS messages FROM authored
        WHERE NOT deleted AND chars > 0 GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST""",
    )
    return {"messages": total, "detected": detected}
