"""Activity: messages over time (stacked by person or chat), the hour x weekday heatmap, and how
long messages are. Authored messages only; times in the requested zone."""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import histogram, rows

STACK_COLUMNS = {"person": "coalesce(sender, '')", "chat": "chat"}
OTHER = "(other)"
# Message length in characters: [edge, next edge) per bucket, the last one open.
LENGTH_EDGES = (0, 1, 11, 21, 51, 101, 201, 501, 1001)


def activity(con: duckdb.DuckDBPyConnection, bucket: str, stack: str | None, top: int) -> dict:
    """``bucket`` is day, week (ISO, from Monday) or month; ``stack`` person, chat or None; the
    ``top`` busiest keys are kept and the rest summed as ``(other)``."""
    if bucket not in ("day", "week", "month"):
        raise ValueError(f"bucket {bucket!r}")
    if stack is None:
        series = rows(
            con,
            f"""
            SELECT date_trunc('{bucket}', t)::DATE AS bucket, count(*) AS messages
            FROM authored GROUP BY 1 ORDER BY 1""",
        )
    else:
        key = STACK_COLUMNS[stack]
        series = rows(
            con,
            f"""
            WITH top AS (SELECT {key} AS key FROM authored GROUP BY 1
                         ORDER BY count(*) DESC, 1 LIMIT {int(top)})
            SELECT date_trunc('{bucket}', t)::DATE AS bucket,
                   CASE WHEN {key} IN (SELECT key FROM top) THEN {key} ELSE '{OTHER}' END AS key,
                   count(*) AS messages
            FROM authored GROUP BY 1, 2 ORDER BY 1, 2""",
        )
    cells = {
        (r["weekday"], r["hour"]): r["messages"]
        for r in rows(
            con,
            """
        SELECT isodow(t) AS weekday, hour(t) AS hour, count(*) AS messages
        FROM authored GROUP BY 1, 2""",
        )
    }
    heatmap = [[cells.get((weekday, hour), 0) for hour in range(24)] for weekday in range(1, 8)]
    lengths = histogram(con, "chars", "authored", LENGTH_EDGES, "messages")
    return {
        "bucket": bucket,
        "stack": stack,
        "series": series,
        "heatmap": heatmap,
        "lengths": lengths,
    }
