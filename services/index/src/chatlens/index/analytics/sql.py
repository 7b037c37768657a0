"""One DuckDB connection over a frame, with the views every report reads.

    m         every row of the frame, with ``t``: its time in the requested zone (a naive local
              timestamp, so dates, hours and weekdays are the zone's)
    authored  the rows people wrote: ``m`` without system and service events
    turns     ``authored`` in each chat's order, with the previous message's sender and the gap
              to it, and ``session``: a conversation number, a new one after ``gap`` of silence

A connection is opened per request (cheap: about a millisecond) because a DuckDB connection is
not to be shared between threads, and the RPC server answers on several.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

# Events that nobody wrote: joins, pins, renames, group creation.
SYSTEM_KINDS = ("system", "service")
# An IANA zone name as zoneinfo accepts it; checked again here because it is spliced into SQL
# (DuckDB takes no parameters in a view's definition).
_ZONE = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")


@contextmanager
def connect(frame: pa.Table, timezone: str, gap_minutes: int,
            threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    if not _ZONE.fullmatch(timezone):
        raise ValueError(f"not a time zone name: {timezone!r}")
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        con.register("frame", frame)
        con.execute(f"SET TimeZone = '{timezone}'")
        con.execute("CREATE TEMP VIEW m AS SELECT *, sent_at::TIMESTAMP AS t FROM frame")
        kinds = ", ".join(f"'{kind}'" for kind in SYSTEM_KINDS)
        con.execute(f"CREATE TEMP VIEW authored AS SELECT * FROM m WHERE kind NOT IN ({kinds})")
        con.execute(f"""
            CREATE TEMP VIEW turns AS
            SELECT *, sum(CASE WHEN previous_at IS NULL
                               OR sent_at - previous_at > INTERVAL {int(gap_minutes)} MINUTE
                          THEN 1 ELSE 0 END)
                      OVER (PARTITION BY chat ORDER BY sent_at, seq, message_id) AS session
            FROM (SELECT *,
                         lag(sent_at) OVER w AS previous_at,
                         lag(sender) OVER w AS previous_sender
                  FROM authored
                  WINDOW w AS (PARTITION BY chat ORDER BY sent_at, seq, message_id))""")
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[dict]:
    """The rows of ``query`` as dicts of JSON-ready values."""
    result = con.execute(query, params or [])
    names = [d[0] for d in result.description]
    return [{n: jsonable(v) for n, v in zip(names, row, strict=True)} for row in result.fetchall()]


def one(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> dict | None:
    found = rows(con, query, params)
    return found[0] if found else None


def histogram(con: duckdb.DuckDBPyConnection, value: str, source: str, edges: tuple[int, ...],
              label: str) -> list[dict]:
    """How many rows of ``source`` have ``value`` in each bucket [edge, next edge), the last
    one open: ``[{min, max, <label>}]``, empty buckets included."""
    cases = " ".join(f"WHEN {value} < {edges[i + 1]} THEN {i}" for i in range(len(edges) - 1))
    counted = {r["bucket"]: r["n"] for r in rows(con, f"""
        SELECT CASE {cases} ELSE {len(edges) - 1} END AS bucket, count(*) AS n
        FROM {source} GROUP BY 1""")}
    return [{"min": edges[i], "max": edges[i + 1] - 1 if i + 1 < len(edges) else None,
             label: counted.get(i, 0)} for i in range(len(edges))]


def jsonable(value: Any) -> Any:
    """A DuckDB value as JSON has it: times as ISO 8601, durations as seconds."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
