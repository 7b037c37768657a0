"""Search analytics, kept by the gateway (issue 12): every search and question asked of a
collection is recorded (org, collection, mode, the query normalised, how many results, how long
it took), and :func:`report` reads them back as queries per day, the zero-result rate, the most
frequent queries and latency percentiles per mode.

A question is recorded with mode ``ask`` and its citations as its results. A request that
failed (refused, or a service did not answer) is not recorded: these are the searches users got
an answer to. Rows older than the retention go with the clean-up command
(:mod:`chatlens.gateway.cleanup`). Percentiles are computed here rather than in SQL: SQLite,
MariaDB and PostgreSQL share no percentile function, and a collection's window of rows is small.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.exc import SQLAlchemyError

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Invalid
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import SearchQueryLog

log = logging.getLogger(__name__)
MAX_QUERY = 500  # the column's width: a longer query is kept cut
DEFAULT_DAYS = 30
_SPACES = re.compile(r"\s+")
PERCENTILES = (50, 90, 99)


def normalise(query: str) -> str:
    """The query as counted: Unicode NFKC, case folded, runs of white space made one space,
    cut to the column's width (so "Lisbon  offsite" and "lisbon offsite" are one query)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", query).casefold()).strip()
    return text[:MAX_QUERY]


def record(
    backends: Backends,
    caller: Caller,
    collection_ids: list[str],
    mode: str,
    query: str,
    results: dict[str, int],
    latency_s: float,
) -> None:
    """One row per collection searched, ``results[collection]`` its result count.

    Recording is bookkeeping: when the database refuses it, the search already answered is
    still returned (and the failure logged), rather than turned into an error."""
    when = backends.clock().replace(tzinfo=None)
    text = normalise(query)
    try:
        with backends.sessions() as session:
            session.add_all(
                SearchQueryLog(
                    org_id=caller.org_id,
                    collection_id=cid,
                    mode=mode,
                    query=text,
                    results=results.get(cid, 0),
                    latency_ms=round(latency_s * 1000, 3),
                    created_at=when,
                )
                for cid in collection_ids
            )
            session.commit()
    except SQLAlchemyError:
        log.exception("search not recorded for analytics", extra={"mode": mode})


@dataclass(frozen=True)
class SearchReport:
    since: date
    until: date
    queries: int
    zero_results: int
    zero_result_rate: float | None
    days: list[dict[str, Any]]
    top_queries: list[dict[str, Any]]
    latency: list[dict[str, Any]]


def report(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    since: date | None,
    until: date | None,
    top: int,
) -> SearchReport:
    """The collection's searches from ``since`` to ``until`` (UTC days, both included; the last
    30 days to today by default)."""
    until = until or backends.clock().date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if until < since:
        raise Invalid("invalid_date_range", "until must not be before since")
    start, end = datetime.combine(since, time()), datetime.combine(until + timedelta(1), time())
    where = (
        SearchQueryLog.collection_id == collection_id,
        SearchQueryLog.created_at >= start,
        SearchQueryLog.created_at < end,
    )
    zero = func.sum(case((SearchQueryLog.results == 0, 1), else_=0))
    with backends.sessions() as session:
        jobs.get_collection(session, caller.org_id, collection_id)  # 404 for another org's
        day = func.date(SearchQueryLog.created_at)  # a string on SQLite, a date elsewhere
        per_day = session.execute(
            select(day, func.count(), zero).where(*where).group_by(day).order_by(day)
        ).all()
        frequent = session.execute(
            select(SearchQueryLog.query, func.count(), zero, func.avg(SearchQueryLog.results))
            .where(*where)
            .group_by(SearchQueryLog.query)
            .order_by(func.count().desc(), SearchQueryLog.query)
            .limit(top)
        ).all()
        timings = session.execute(
            select(SearchQueryLog.mode, SearchQueryLog.latency_ms).where(*where)
        ).all()
    days = [
        {"day": _day(d).isoformat(), "queries": n, "zero_results": int(z or 0)}
        for d, n, z in per_day
    ]
    total = sum(d["queries"] for d in days)
    zeros = sum(d["zero_results"] for d in days)
    return SearchReport(
        since=since,
        until=until,
        queries=total,
        zero_results=zeros,
        zero_result_rate=round(zeros / total, 4) if total else None,
        days=days,
        top_queries=[
            {
                "query": q,
                "count": n,
                "zero_results": int(z or 0),
                "average_results": round(float(a or 0), 2),
            }
            for q, n, z, a in frequent
        ],
        latency=_latencies(timings),
    )


def _day(value: date | datetime | str) -> date:
    """The day SQL grouped by (SQLite answers a string, the others a date)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _latencies(rows: Sequence[Row[str, float]]) -> list[dict[str, Any]]:
    by_mode: dict[str, list[float]] = {}
    for mode, ms in rows:
        by_mode.setdefault(mode, []).append(float(ms))
    return [
        {
            "mode": mode,
            "queries": len(values),
            **{f"p{p}_ms": round(percentile(sorted(values), p), 2) for p in PERCENTILES},
        }
        for mode, values in sorted(by_mode.items())
    ]


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of a sorted, non-empty list (p50 of [1, 2, 3, 4] is 2)."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
