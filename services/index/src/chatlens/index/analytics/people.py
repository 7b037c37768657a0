"""People: each sender's counts and habits, ranked by messages.

A *conversation* is a run of a chat's messages without a silence longer than the gap
(``sql``'s ``turns`` view); its first sender started it, its last ended it. A *reply* is a native
one (``reply_to`` naming a message in the selection). A *response time* is the wait between a
message and the previous one in its chat when another sender wrote that one, within one
conversation; each sender's median of them is given.
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import rows


def people(con: duckdb.DuckDBPyConnection, limit: int) -> dict:
    found = rows(con, f"""
        WITH base AS (
            SELECT sender, count(*) AS messages, coalesce(sum(words), 0) AS words,
                   avg(chars) AS average_length, count(*) FILTER (media) AS media,
                   count(*) FILTER (link) AS links, coalesce(sum(emojis), 0) AS emoji,
                   min(sent_at) AS first_seen, max(sent_at) AS last_seen,
                   count(DISTINCT t::DATE) AS active_days
            FROM authored WHERE sender IS NOT NULL GROUP BY sender),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY chat, session
                                         ORDER BY sent_at, seq, message_id) AS first_rank,
                      row_number() OVER (PARTITION BY chat, session
                                         ORDER BY sent_at DESC, seq DESC, message_id DESC)
                          AS last_rank
            FROM turns),
        started AS (SELECT sender, count(*) AS n FROM ranked WHERE first_rank = 1 GROUP BY 1),
        ended AS (SELECT sender, count(*) AS n FROM ranked WHERE last_rank = 1 GROUP BY 1),
        replies AS (SELECT r.sender AS given_by, o.sender AS received_by
                    FROM authored r JOIN authored o ON r.reply_to = o.message_id),
        given AS (SELECT given_by AS sender, count(*) AS n FROM replies GROUP BY 1),
        received AS (SELECT received_by AS sender, count(*) AS n FROM replies GROUP BY 1),
        responses AS (
            SELECT sender, median(epoch(sent_at) - epoch(previous_at)) AS seconds
            FROM ranked
            WHERE first_rank > 1 AND previous_sender IS DISTINCT FROM sender GROUP BY 1)
        SELECT base.*, base.messages / (SELECT count(*) FROM authored) AS share,
               coalesce(started.n, 0) AS conversations_started,
               coalesce(ended.n, 0) AS conversations_ended,
               coalesce(given.n, 0) AS replies_given,
               coalesce(received.n, 0) AS replies_received,
               responses.seconds AS median_response_seconds
        FROM base
        LEFT JOIN started USING (sender) LEFT JOIN ended USING (sender)
        LEFT JOIN given USING (sender) LEFT JOIN received USING (sender)
        LEFT JOIN responses USING (sender)
        ORDER BY messages DESC, sender LIMIT {int(limit)}""")
    total = rows(con, "SELECT count(DISTINCT sender) AS n FROM authored")[0]["n"]
    return {"people": found, "total": total}
