"""One DuckDB connection over a prepared frame, with the views every report reads.

    m         every row of the frame (:func:`chatlens.index.analytics.prepared.prepare`: with
              ``t``, its time in the requested zone as a naive local timestamp, so dates, hours
              and weekdays are the zone's; ``us``, UTC microseconds; ``reply_row``; and each
              chat's order)
    authored  the rows people wrote: ``m`` without system and service events
    turns     (made by :func:`turns` for the reports that need it) ``authored`` with where
              conversations start and end (``gap``)

Order within a chat is (time, seq, place in the frame).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from chatlens.index.analytics.prepared import SYSTEM_KINDS

# One connection per thread, kept: opening one costs more than a small report. A connection is
# never shared between threads (DuckDB's rule); each request re-registers its own frame.
_local = threading.local()


def _connection(threads: int | None) -> duckdb.DuckDBPyConnection:
    """This thread's connection, or with ``threads``, a new one of that many threads (closed
    after its request)."""
    con = getattr(_local, "con", None)
    if con is None or threads is not None:
        con = duckdb.connect(config={"threads": threads} if threads else {})
        con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ values come back in UTC
        if threads is None:
            _local.con = con
    return con


@contextmanager
def over(
    tables: dict[str, pa.Table], threads: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection where each of ``tables`` is a view of its name (and nothing else)."""
    con = _connection(threads)
    try:
        for name, table in tables.items():
            con.register(name, table)
        yield con
    finally:
        for name in tables:
            con.unregister(name)
        if threads is not None:
            con.close()


@contextmanager
def connect(
    prepared: pa.Table, gap_minutes: int, threads: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection where ``m`` is ``prepared`` (scanned in place, not copied)."""
    con = _connection(threads)
    try:
        # Arrow is scanned in place: copying it into a DuckDB table cost more (strings) than
        # the few scans of a report.
        con.register("m", prepared)
        kinds = ", ".join(f"'{kind}'" for kind in SYSTEM_KINDS)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW authored AS SELECT * FROM m WHERE kind NOT IN ({kinds})"
        )
        con.execute(f"SET VARIABLE gap_us = {int(gap_minutes) * 60_000_000}")
        yield con
    finally:
        con.execute(
            "DROP TABLE IF EXISTS bounds; DROP TABLE IF EXISTS sessions; "
            "DROP TABLE IF EXISTS threads; DROP TABLE IF EXISTS trees"
        )
        con.unregister("m")
        if threads is not None:
            con.close()


def turns(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``turns`` view of this request (people, conversations and interaction read
    it): each authored message with whether it starts or ends a conversation (a silence longer
    than the gap before or after it in its chat). The chat's order, the previous and next
    messages, were computed when the frame was prepared; a view of them costs nothing here.
    """
    con.execute("""
        CREATE OR REPLACE TEMP VIEW turns AS
        SELECT *, previous_us IS NULL OR us - previous_us > getvariable('gap_us') AS starts,
                  next_us IS NULL OR next_us - us > getvariable('gap_us') AS ends
        FROM authored""")


def rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[dict]:
    """The rows of ``query`` as dicts of JSON-ready values. Only a column of a time type goes
    through ``jsonable``: a weekly series stacked by person over a million messages is 31,345
    rows, and converting every value took a third of the report's time."""
    result = con.execute(query, params or [])
    names = [d[0] for d in result.description]
    timed = [i for i, d in enumerate(result.description) if _is_time(str(d[1]))]
    fetched = result.fetchall()
    if not timed:
        return [dict(zip(names, row, strict=True)) for row in fetched]
    out = []
    for row in fetched:
        values = list(row)
        for i in timed:
            values[i] = jsonable(values[i])
        out.append(dict(zip(names, values, strict=True)))
    return out


def _is_time(duckdb_type: str) -> bool:
    """A DuckDB type whose values ``jsonable`` converts (dates, times, intervals; not a list or
    struct of them, which it never did)."""
    return duckdb_type in ("DATE", "INTERVAL") or duckdb_type.startswith(("TIME", "TIMESTAMP"))


def one(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> dict | None:
    found = rows(con, query, params)
    return found[0] if found else None


def histogram(
    con: duckdb.DuckDBPyConnection, value: str, source: str, edges: tuple[int, ...], label: str
) -> list[dict]:
    """How many rows of ``source`` have ``value`` in each bucket [edge, next edge), the last
    one open: ``[{min, max, <label>}]``, empty buckets included."""
    cases = " ".join(f"WHEN {value} < {edges[i + 1]} THEN {i}" for i in range(len(edges) - 1))
    counted = {
        r["bucket"]: r["n"]
        for r in rows(
            con,
            f"""
        SELECT CASE {cases} ELSE {len(edges) - 1} END AS bucket, count(*) AS n
        FROM {source} GROUP BY 1""",
        )
    }
    return [
        {
            "min": edges[i],
            "max": edges[i + 1] - 1 if i + 1 < len(edges) else None,
            label: counted.get(i, 0),
        }
        for i in range(len(edges))
    ]


def jsonable(value: Any) -> Any:
    """A DuckDB value as JSON has it: times as ISO 8601, durations as seconds."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
