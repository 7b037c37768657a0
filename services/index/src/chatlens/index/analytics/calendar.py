"""The calendar heatmap: authored messages per day of one year, in the requested zone.

Only active days are listed (a client fills the rest with zeros); ``years`` says which years have
messages, so a client can page through them, and ``max`` is the busiest day's count (the scale).
"""

from __future__ import annotations

import duckdb

from chatlens.index.analytics.sql import rows


def calendar(con: duckdb.DuckDBPyConnection, year: int | None) -> dict:
    """The days of ``year`` (the latest year with messages when None)."""
    years = [
        r["year"]
        for r in rows(
            con,
            """
        SELECT DISTINCT year(t) AS year FROM authored ORDER BY 1""",
        )
    ]
    if year is None:
        year = years[-1] if years else None
    days = (
        []
        if year is None
        else rows(
            con,
            """
        SELECT t::DATE AS day, count(*) AS messages FROM authored
        WHERE year(t) = ? GROUP BY 1 ORDER BY 1""",
            [year],
        )
    )
    return {
        "year": year,
        "years": years,
        "days": days,
        "total": sum(d["messages"] for d in days),
        "max": max((d["messages"] for d in days), default=0),
    }
