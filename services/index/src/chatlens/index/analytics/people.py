"""People: each sender's counts and habits, ranked by messages.

A *conversation* is a run of a chat's messages without a silence longer than the gap
(``sql.turns``); its first sender started it, its last ended it. A *reply* is a native
one (``reply_to`` naming a message in the selection). A *response time* is the wait between a
message and the previous one in its chat when another sender wrote that one, within one
conversation; each sender's median of them is given.
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import rows, turns


def people(con: duckdb.DuckDBPyConnection, limit: int) -> dict:
    turns(con)
    found = rows(
        con,
        f"""
        WITH base AS (
            SELECT sender, count(*) AS messages, coalesce(sum(words), 0) AS words,
                   avg(chars) AS average_length, count(*) FILTER (media) AS media,
                   count(*) FILTER (link) AS links, coalesce(sum(emojis), 0) AS emoji,
                   min(sent_at) AS first_seen, max(sent_at) AS last_seen,
                   count(DISTINCT t::DATE) AS active_days,
                   count(*) FILTER (starts) AS conversations_started,
                   count(*) FILTER (ends) AS conversations_ended,
                   median((us - previous_us) / 1e6) FILTER (
                       NOT starts AND previous_sender IS DISTINCT FROM sender)
                       AS median_response_seconds
            FROM turns WHERE sender IS NOT NULL GROUP BY sender),
        replies AS (SELECT sender AS given_by, replied_sender AS received_by
                    FROM authored WHERE replied),
        given AS (SELECT given_by AS sender, count(*) AS n FROM replies GROUP BY 1),
        received AS (SELECT received_by AS sender, count(*) AS n FROM replies GROUP BY 1)
        SELECT base.* EXCLUDE (median_response_seconds),
               base.messages / (SELECT count(*) FROM authored) AS share,
               coalesce(given.n, 0) AS replies_given,
               coalesce(received.n, 0) AS replies_received,
               median_response_seconds
        FROM base LEFT JOIN given USING (sender) LEFT JOIN received USING (sender)
        ORDER BY messages DESC, sender LIMIT {int(limit)}""",
    )
    total = rows(con, "SELECT count(DISTINCT sender) AS n FROM authored")[0]["n"]
    return {"people": found, "total": total}
