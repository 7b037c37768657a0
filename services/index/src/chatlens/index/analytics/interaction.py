"""Interaction: who replies to whom, how fast, who mentions whom, and the threads and reply chains
the platform's own reply and thread ids rebuild.

Three directed matrices, each a list of ``{sender, recipient, count}`` cells (busiest first):

    replies    native replies: ``sender`` answered a message of ``recipient`` (``reply_to``
               naming a message in the selection), with the median wait between the two
    responses  turn-taking: ``sender`` wrote right after ``recipient`` in a chat, within one
               conversation (``sql.turns``), with the median wait; the people report's response
               time is the same wait per sender
    mentions   ``sender`` wrote ``@name`` of ``recipient`` (another sender of the selection; a
               longer name wins where two start alike), counted once per message

``reactions`` (Telegram, Slack, Discord): received per sender (every reaction on their
messages), given per person the platform names as reacting (Slack and Discord name them all,
Telegram only a few recent ones, so given counts are a lower bound there), and the top emoji.
A segment written before reactions were kept counts as having none.

``over_time`` counts replies and responses per day, week or month (of the answering message),
with the median response wait in each.

A *thread* is the messages sharing a native thread id (Slack threads, forum topics). A *reply
tree* is a message that replies to nothing in the selection and every reply under it, followed
through ``reply_to``; its depth is the messages on its longest chain of replies to replies.
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import one, rows, turns


def interaction(con: duckdb.DuckDBPyConnection, top: int, bucket: str = "month") -> dict:
    """The matrices (every pair), the threads and the reply trees; ``top`` longest of each;
    replies and responses per ``bucket`` (day, week or month of the answer, in the zone)."""
    if bucket not in ("day", "week", "month"):
        raise ValueError(f"bucket {bucket!r}")
    turns(con)
    # Native replies read the prepared ``replied``, ``replied_sender`` and ``replied_us``: the
    # message a reply names was found once per frame, not joined on string ids per request.
    replies = rows(
        con,
        """
        SELECT sender, replied_sender AS recipient, count(*) AS count,
               median((us - replied_us) / 1e6) AS median_seconds
        FROM authored
        WHERE replied AND sender IS NOT NULL AND replied_sender IS NOT NULL
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
    # Both per bucket in one pass over the rows.
    over_time = rows(
        con,
        f"""
        SELECT bucket, replies, responses, median_response_seconds
        FROM (SELECT date_trunc('{bucket}', t)::DATE AS bucket,
                     count(*) FILTER (replied AND sender IS NOT NULL
                                      AND replied_sender IS NOT NULL) AS replies,
                     count(*) FILTER (response) AS responses,
                     median((us - previous_us) / 1e6) FILTER (response)
                         AS median_response_seconds
              FROM (SELECT *, NOT starts AND sender IS NOT NULL AND previous_sender IS NOT NULL
                              AND sender <> previous_sender AS response FROM turns)
              GROUP BY 1)
        WHERE replies > 0 OR responses > 0 ORDER BY bucket""",
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


def reactions(con: duckdb.DuckDBPyConnection, top: int) -> dict:
    """Reactions on the selection's messages: ``received`` per author, ``given`` per named
    reactor, the ``top`` emoji; every list busiest first, each ``top`` long at most."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE reacted AS
        SELECT sender, r.emoji AS emoji, r.count AS count, r.users AS users
        FROM (SELECT sender, unnest(reactions) AS r FROM authored
              WHERE reactions IS NOT NULL AND len(reactions) > 0)""")
    total = one(con, "SELECT coalesce(sum(count), 0)::BIGINT AS n FROM reacted")["n"]
    received = rows(
        con,
        f"""
        SELECT sender, sum(count)::BIGINT AS count FROM reacted WHERE sender IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
    )
    given = rows(
        con,
        f"""
        SELECT u AS sender, count(*)::BIGINT AS count
        FROM (SELECT unnest(users) AS u FROM reacted) GROUP BY 1 ORDER BY 2 DESC, 1
        LIMIT {int(top)}""",
    )
    emoji = rows(
        con,
        f"""
        SELECT emoji, sum(count)::BIGINT AS count FROM reacted GROUP BY 1 ORDER BY 2 DESC, 1
        LIMIT {int(top)}""",
    )
    con.execute("DROP TABLE reacted")
    return {"total": total, "received": received, "given": given, "emoji": emoji}


def mentions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """``@name`` of a sender in the selection: the prepared ``mentioned`` names, counted."""
    return rows(
        con,
        """
        SELECT sender, recipient, count(*) AS count
        FROM (SELECT sender, unnest(mentioned) AS recipient FROM authored
              WHERE mentioned IS NOT NULL)
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
    )


def threads(con: duckdb.DuckDBPyConnection, top: int) -> dict:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE threads AS
        SELECT thread_id, min(chat) AS chat, count(*) AS messages,
               count(DISTINCT sender) AS participants,
               min(sent_at) AS started_at, max(sent_at) AS ended_at
        FROM authored WHERE thread_id IS NOT NULL GROUP BY 1""")
    totals = (
        one(
            con,
            """
        SELECT count(*) AS count, coalesce(sum(messages), 0) AS messages,
               median(messages) AS median_messages FROM threads""",
        )
        or {}
    )
    longest = rows(
        con,
        f"""
        SELECT * FROM threads ORDER BY messages DESC, started_at, thread_id
        LIMIT {int(top)}""",
    )
    return {**totals, "longest": longest}


def reply_trees(con: duckdb.DuckDBPyConnection, top: int) -> dict:
    """The trees of the prepared ``tree_root`` and ``tree_depth`` (``prepared.reply_trees``)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE trees AS
        SELECT tree_root, count(*) AS messages, max(tree_depth) AS depth,
               any_value(message_id) FILTER (tree_depth = 1) AS root,
               any_value(chat) FILTER (tree_depth = 1) AS chat,
               any_value(sender) FILTER (tree_depth = 1) AS sender,
               any_value(sent_at) FILTER (tree_depth = 1) AS started_at,
               any_value(us) FILTER (tree_depth = 1) AS us
        FROM authored WHERE tree_root IS NOT NULL GROUP BY tree_root""")
    totals = (
        one(
            con,
            """
        SELECT count(*) AS count, coalesce(sum(messages), 0) AS messages,
               max(depth) AS deepest FROM trees""",
        )
        or {}
    )
    longest = rows(
        con,
        f"""
        SELECT root AS message_id, chat, sender, started_at, depth, messages
        FROM trees ORDER BY depth DESC, messages DESC, us, root LIMIT {int(top)}""",
    )
    return {**totals, "longest": longest}
