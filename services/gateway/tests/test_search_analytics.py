"""Search analytics (issue 12): every search and question is recorded by the gateway, and
``GET …/analytics/search`` reads them back: queries per day, zero-result rate, the most frequent
queries, latency percentiles per mode. The numbers are checked against counts made here from the
rows put in; the endpoint and the clean-up run on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from chatlens.gateway import cleanup
from chatlens.gateway.application import answers, search, search_log
from chatlens.gateway.application.ports import Caller
from chatlens.gateway.db import SearchQueryLog, utcnow
from chatlens.shared import schemas

from . import test_application as app_tier
from .test_application import NOW, collection, embedded, found
from .test_search import create_collection

# The application tier's fixtures (SQLite, the in-memory bus, its fake services).
backends_with, services, sessions = app_tier.backends_with, app_tier.services, app_tier.sessions


def nothing_found(request):
    return schemas.SearchAnswered(hits=[], version=2)


def logged(sessions) -> list[SearchQueryLog]:
    with sessions() as session:
        return list(session.scalars(select(SearchQueryLog).order_by(SearchQueryLog.id)))


def test_normalising_folds_case_and_white_space():
    assert search_log.normalise("  Lisbon\t OFFSITE \n") == "lisbon offsite"
    assert search_log.normalise("ﬁle Straße") == "file strasse"  # NFKC, then case folded
    assert len(search_log.normalise("x" * 900)) == search_log.MAX_QUERY


def test_percentiles_are_nearest_rank():
    ordered = [float(n) for n in range(1, 101)]
    assert [search_log.percentile(ordered, p) for p in (50, 90, 99)] == [50.0, 90.0, 99.0]
    assert search_log.percentile([7.0], 99) == 7.0
    assert search_log.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_every_search_and_question_is_recorded_with_its_results(sessions, backends_with):
    facets = schemas.FacetsListed(version=2, senders=[], chats=[])
    generated = schemas.Generated(
        text="In Lisbon [1].", model="smol", prompt_tokens=5, tokens=4, finish_reason="stop"
    )
    backends = backends_with(
        {
            schemas.FacetsRequested: facets,
            schemas.EmbedQuery: embedded,
            schemas.SearchRequested: found,
            schemas.GenerateRequested: generated,
        }
    )
    cid, caller = collection(sessions), Caller("org-a", "u1")
    search.search(backends, caller, cid, search.SearchQuery(query="Lisbon  Offsite"))
    search.search(backends, caller, cid, search.SearchQuery(query="lisbon offsite", mode="keyword"))
    answers.answer(backends, caller, cid, answers.Question("Where is the offsite?"))
    rows = logged(sessions)
    assert [(r.org_id, r.collection_id, r.mode, r.query, r.results) for r in rows] == [
        ("org-a", cid, "hybrid", "lisbon offsite", 1),
        ("org-a", cid, "keyword", "lisbon offsite", 1),
        ("org-a", cid, "ask", "where is the offsite?", 1),
    ]
    assert all(r.latency_ms >= 0 and r.created_at == NOW.replace(tzinfo=None) for r in rows)


def test_a_search_that_finds_nothing_counts_as_zero_results(sessions, backends_with):
    backends = backends_with({schemas.EmbedQuery: embedded, schemas.SearchRequested: nothing_found})
    cid = collection(sessions)
    search.search(backends, Caller("org-a"), cid, search.SearchQuery(query="moscow"))
    report = search_log.report(backends, Caller("org-a"), cid, None, None, 10)
    assert (report.queries, report.zero_results, report.zero_result_rate) == (1, 1, 1.0)
    assert report.top_queries == [
        {"query": "moscow", "count": 1, "zero_results": 1, "average_results": 0.0}
    ]
    assert (report.since, report.until) == (NOW.date() - timedelta(days=29), NOW.date())


def test_a_refused_search_is_not_recorded(sessions, backends_with):
    backends = backends_with({})
    with pytest.raises(Exception):  # noqa: B017 (which refusal: test_application)
        search.search(
            backends,
            Caller("org-a"),
            collection(sessions),
            search.SearchQuery(query="after:someday x"),
        )
    assert logged(sessions) == []


# --- the endpoint, on the three databases ------------------------------------------------------


def put(app, collection_id, rows, org="org-a"):
    """Rows of (days ago, mode, query, results, latency ms)."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    with app.extensions["chatlens.sessions"]() as session:
        session.add_all(
            SearchQueryLog(
                org_id=org,
                collection_id=collection_id,
                mode=mode,
                query=query,
                results=results,
                latency_ms=ms,
                created_at=today - timedelta(days=ago),
            )
            for ago, mode, query, results, ms in rows
        )
        session.commit()


ROWS = [(0, "hybrid", "lisbon offsite", 3, float(ms)) for ms in range(1, 11)] + [
    (0, "keyword", "invoice", 0, 40.0),
    (1, "keyword", "invoice", 0, 60.0),
    (1, "ask", "where is the offsite?", 2, 900.0),
    (2, "semantic", "budget", 5, 20.0),
    (45, "hybrid", "long ago", 0, 5.0),
]


def get(client, headers, collection_id, query=""):
    return client.get(
        f"/api/v1/collections/{collection_id}/analytics/search{query}", headers=headers
    )


def test_the_report_counts_days_zero_results_frequent_queries_and_latencies(app, client, auth):
    headers = auth()
    cid = create_collection(client, headers)
    put(app, cid, ROWS)
    put(app, create_collection(client, headers), [(0, "hybrid", "elsewhere", 0, 1.0)])
    response = get(client, headers, cid, "?top=2")
    assert response.status_code == 200, response.json
    body = response.json
    today = utcnow().date()
    window = [r for r in ROWS if r[0] < 30]  # the last 30 days by default
    assert body["queries"] == len(window) == 14
    assert body["zero_results"] == 2 and body["zero_result_rate"] == round(2 / 14, 4)
    assert body["days"] == [
        {"day": (today - timedelta(days=2)).isoformat(), "queries": 1, "zero_results": 0},
        {"day": (today - timedelta(days=1)).isoformat(), "queries": 2, "zero_results": 1},
        {"day": today.isoformat(), "queries": 11, "zero_results": 1},
    ]
    assert body["top_queries"] == [
        {"query": "lisbon offsite", "count": 10, "zero_results": 0, "average_results": 3.0},
        {"query": "invoice", "count": 2, "zero_results": 2, "average_results": 0.0},
    ]
    assert body["latency"] == [
        {"mode": "ask", "queries": 1, "p50_ms": 900.0, "p90_ms": 900.0, "p99_ms": 900.0},
        {"mode": "hybrid", "queries": 10, "p50_ms": 5.0, "p90_ms": 9.0, "p99_ms": 10.0},
        {"mode": "keyword", "queries": 2, "p50_ms": 40.0, "p90_ms": 60.0, "p99_ms": 60.0},
        {"mode": "semantic", "queries": 1, "p50_ms": 20.0, "p90_ms": 20.0, "p99_ms": 20.0},
    ]
    # A window: from 45 days ago to yesterday.
    since = (today - timedelta(days=45)).isoformat()
    until = (today - timedelta(days=1)).isoformat()
    body = get(client, headers, cid, f"?since={since}&until={until}").json
    assert (body["queries"], body["zero_results"]) == (4, 2)
    assert [d["day"] for d in body["days"]][0] == since


def test_an_empty_window_has_no_rate(client, auth):
    headers = auth()
    body = get(client, headers, create_collection(client, headers)).json
    assert (body["queries"], body["zero_result_rate"], body["days"], body["latency"]) == (
        0,
        None,
        [],
        [],
    )


@pytest.mark.parametrize(
    "query, code",
    [
        ("?since=2026-02-01&until=2026-01-01", "invalid_date_range"),
        ("?since=yesterday", "validation_error"),
        ("?top=0", "validation_error"),
        ("?sender=Marta", "validation_error"),
    ],
)
def test_a_bad_request_is_refused_with_a_code(client, auth, query, code):
    headers = auth()
    response = get(client, headers, create_collection(client, headers), query)
    assert (response.status_code, response.json["error"]["code"]) == (422, code)


def test_viewers_and_other_orgs_are_refused(app, client, auth):
    headers = auth()
    cid = create_collection(client, headers)
    put(app, cid, ROWS)
    assert get(client, auth(role="viewer"), cid).status_code == 403
    assert get(client, auth(role="analyst"), cid).status_code == 200
    response = get(client, auth(org="org-b"), cid)
    assert (response.status_code, response.json["error"]["code"]) == (404, "collection_not_found")


def test_the_clean_up_prunes_searches_past_their_retention(app, client, auth):
    headers = auth()
    cid = create_collection(client, headers)
    put(app, cid, ROWS)
    sessions = app.extensions["chatlens.sessions"]
    report = cleanup.clean(
        sessions,
        app.config["CHATLENS_UPLOAD_DIR"],
        job_retention=timedelta(days=90),
        upload_grace=timedelta(hours=24),
        search_retention=timedelta(days=30),
        batch=3,
    )
    assert report.search_queries == 1
    assert sorted({r.query for r in logged(sessions)}) == [
        "budget",
        "invoice",
        "lisbon offsite",
        "where is the offsite?",
    ]
    assert (
        cleanup.clean(
            sessions,
            app.config["CHATLENS_UPLOAD_DIR"],
            job_retention=timedelta(days=90),
            upload_grace=timedelta(hours=24),
            search_retention=timedelta(days=30),
        ).search_queries
        == 0
    )


def test_the_openapi_document_lists_the_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/collections/{collection_id}/analytics/search"]
