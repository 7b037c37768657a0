"""The analytics endpoints: what the gateway asks the index for, and what it refuses itself.

The index is a fake RPC server on the real bus (as in ``test_search``); the numbers are checked
against independent counts in the index's own tests (``services/index/tests/test_analytics*``).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from chatlens.gateway.db import Collection
from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError

from .test_search import FakeServices, create_collection, set_version

# A whole overview, as the index answers one (the gateway sends it through its declared model).
OVERVIEW = {
    "messages": 3,
    "words": 7,
    "participants": 2,
    "chats": 1,
    "first": "2025-02-14T11:15:00+00:00",
    "last": "2025-02-15T09:00:00+00:00",
    "span_days": 2,
    "active_days": 2,
    "average_per_day": 1.5,
    "average_per_active_day": 1.5,
    "busiest_day": {"day": "2025-02-14", "messages": 2},
    "busiest_hour": {"hour": 11, "messages": 2},
    "busiest_weekday": {"weekday": 5, "messages": 2},
    "busiest_month": {"month": "2025-02", "messages": 3},
    "longest_streak": None,
    "longest_silence": None,
    "media": 0,
    "links": 1,
    "edited": 0,
    "deleted": 0,
    "system_events": 0,
}
REPORTS = {
    "overview": OVERVIEW,
    "activity": {
        "bucket": "day",
        "stack": None,
        "series": [],
        "heatmap": [[0] * 24] * 7,
        "lengths": [],
    },
    "people": {"people": [], "total": 0},
    "conversations": {
        "count": 0,
        "messages": 0,
        "median_messages": None,
        "median_seconds": None,
        "gap_minutes": 30,
        "sizes": [],
        "started_by": [],
        "ended_by": [],
        "longest": None,
    },
    "interaction": {
        "replies": [{"sender": "Sam", "recipient": "Marta", "count": 2, "median_seconds": 60.0}],
        "responses": [],
        "mentions": [{"sender": "Marta", "recipient": "Sam", "count": 1}],
        "threads": {"count": 0, "messages": 0, "median_messages": None, "longest": []},
        "reply_trees": {
            "count": 1,
            "messages": 3,
            "deepest": 3,
            "longest": [
                {
                    "message_id": "m1",
                    "chat": "Family",
                    "sender": "Marta",
                    "started_at": "2025-02-14T11:15:00+00:00",
                    "depth": 3,
                    "messages": 3,
                }
            ],
        },
    },
    "language": {
        "languages": ["en"],
        "messages": 3,
        "words": [{"word": "porto", "count": 2}],
        "phrases": [],
        "emoji": [{"emoji": "🎉", "count": 1}],
        "domains": [{"domain": "example.org", "count": 1}],
        "sentiment": {
            "model": "vaderSentiment",
            "scored": 3,
            "positive": 0.5,
            "negative": 0.0,
            "neutral": 0.5,
            "months": [{"month": "2025-02", "messages": 3, "mean": 0.2}],
        },
    },
    "identities": {
        "suggestions": [
            {
                "senders": [
                    {
                        "sender": "Marta",
                        "platforms": ["whatsapp"],
                        "chats": 1,
                        "messages": 3,
                        "first_seen": "2025-02-14T11:15:00+00:00",
                        "last_seen": "2025-02-15T09:00:00+00:00",
                    },
                    {
                        "sender": "~ Marta",
                        "platforms": ["telegram"],
                        "chats": 1,
                        "messages": 1,
                        "first_seen": "2025-02-14T11:15:00+00:00",
                        "last_seen": "2025-02-14T11:15:00+00:00",
                    },
                ],
                "evidence": ["same name"],
                "messages": 4,
            }
        ],
        "total": 1,
        "senders": 2,
        "people": {"Sam W": ["Sam", "Wei"]},
    },
    "calendar": {
        "year": 2025,
        "years": [2025],
        "days": [{"day": "2025-02-14", "messages": 2}],
        "total": 2,
        "max": 2,
    },
}


def listed_messages() -> list[schemas.ChatMessage]:
    said = [
        ("Marta", "text", '=HYPERLINK("http://evil.example","click")'),
        ("Sam", "text", "great, *thanks*! <b>"),
        (None, "system", "Sam joined"),
        ("Marta", "text", "-2 degrees\nin Porto"),
    ]
    return [
        schemas.ChatMessage(
            message_id=f"m{i}",
            platform="whatsapp",
            chat="Team | Ops",
            sender=sender,
            sent_at=datetime(2025, 2, 14, 23, 30 + i * 10, tzinfo=UTC)
            if i < 3
            else datetime(2025, 2, 15, 9, 0, tzinfo=UTC),
            tz_assumption="UTC",
            kind=kind,
            text=text,
            seq=i,
            source_file="chat.txt",
        )
        for i, (sender, kind, text) in enumerate(said)
    ]


def index(request):
    if isinstance(request, schemas.MessagesListRequested):
        many = request.filters.chat == ["Everything"]
        return schemas.MessagesListed(
            version=2, total=20_000 if many else 4, messages=listed_messages()
        )
    if isinstance(request, schemas.PeopleMergeRequested):
        if "Nobody" in request.senders:
            raise PermanentError("not in this collection", code="sender_not_found")
        if request.action == "split":
            raise PermanentError("no such person", code="person_not_found")
        return schemas.PeopleMerged(
            version=3,
            changed=request.person != "Same",
            people={request.person: sorted(request.senders)},
        )
    if not isinstance(request, schemas.AnalyticsRequested):
        raise PermanentError("unexpected")
    if request.version not in (None, 2):
        raise PermanentError("no such version", code="version_not_found")
    if request.timezone == "Antarctica/Troll" and request.report == "people":
        raise PermanentError("unknown to the index", code="invalid_timezone")
    if "xx" in request.languages:
        raise PermanentError("no stop words for xx", code="invalid_language")
    result = REPORTS[request.report]
    return schemas.AnalyticsAnswered(
        version=2, report=request.report, timezone=request.timezone, result=result
    )


@pytest.fixture
def services(amqp_url):
    started = []
    yield lambda index: started.append(FakeServices(amqp_url, index)) or started[-1]
    for fake in started:
        fake.stop()


@pytest.fixture
def collection(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 2)
    return headers, collection_id, services(index)


def get(client, headers, collection_id, path):
    return client.get(f"/api/v1/collections/{collection_id}/analytics/{path}", headers=headers)


def test_an_overview_carries_the_filters_version_and_zone_to_the_index(client, collection):
    headers, collection_id, fake = collection
    response = get(
        client,
        headers,
        collection_id,
        "overview?sender=Marta&sender=Sam&platform=whatsapp&kind=text&language=pt&language=EN"
        "&since=2025-02-01&until=2025-03-01T00:00:00Z&timezone=Europe/Lisbon"
        "&version=2",
    )
    assert response.status_code == 200, response.json
    assert response.json == {**OVERVIEW, "version": 2, "timezone": "Europe/Lisbon"}
    [asked] = fake.of(schemas.AnalyticsRequested)
    assert (asked.report, asked.version, asked.timezone) == ("overview", 2, "Europe/Lisbon")
    assert asked.filters.sender == ["Marta", "Sam"] and asked.filters.platform == ["whatsapp"]
    assert asked.filters.kind == ["text"] and asked.filters.language == ["pt", "EN"]
    # A date without an offset is midnight in the report's zone (Lisbon: UTC+0 in February).
    assert asked.filters.since == datetime(2025, 2, 1, tzinfo=UTC)
    assert asked.filters.until == datetime(2025, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "path, fields",
    [
        ("activity?bucket=week&stack=chat&top=3", {"bucket": "week", "stack": "chat", "top": 3}),
        ("people?gap_minutes=90&limit=5", {"gap_minutes": 90, "limit": 5}),
        ("conversations?gap_minutes=10&top=2", {"gap_minutes": 10, "top": 2}),
        (
            "interaction?gap_minutes=5&top=4&bucket=week",
            {"gap_minutes": 5, "top": 4, "bucket": "week"},
        ),
        ("language?top=7&languages=pt&languages=en", {"top": 7, "languages": ["pt", "en"]}),
        ("calendar?year=2024", {"year": 2024}),
        ("identities?limit=3", {"limit": 3}),
    ],
)
def test_each_report_passes_its_own_options(client, collection, path, fields):
    headers, collection_id, fake = collection
    response = get(client, headers, collection_id, path)
    assert response.status_code == 200, response.json
    asked = fake.of(schemas.AnalyticsRequested)[-1]
    assert asked.report == path.split("?")[0]
    assert {name: getattr(asked, name) for name in fields} == fields


def test_a_local_date_is_midnight_in_the_requested_zone(client, collection):
    headers, collection_id, fake = collection
    get(client, headers, collection_id, "overview?since=2025-07-01&timezone=America/New_York")
    asked = fake.of(schemas.AnalyticsRequested)[-1]
    assert asked.filters.since == datetime(2025, 7, 1, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("overview?colour=red", 422, "validation_error"),
        ("overview?timezone=Mars/Olympus", 422, "invalid_timezone"),
        ("overview?timezone=../../etc/passwd", 422, "invalid_timezone"),
        ("overview?since=2025-03-01&until=2025-02-01", 422, "invalid_date_range"),
        ("overview?since=yesterdayish", 422, "invalid_date"),
        ("overview?kind=sticker", 422, "validation_error"),
        ("overview?language=portuguese", 422, "validation_error"),
        ("people?language=pt&language=p1", 422, "validation_error"),
        ("language?language=" + "&language=".join(["pt"] * 21), 422, "validation_error"),
        ("overview?version=7", 404, "version_not_found"),
        ("overview?timezone=UTC&timezone=Europe/Lisbon", 422, "validation_error"),
        ("activity?bucket=year", 422, "validation_error"),
        ("activity?top=0", 422, "validation_error"),
        ("people?gap_minutes=0", 422, "validation_error"),
        ("people?limit=1001", 422, "validation_error"),
        ("conversations?gap_minutes=10081", 422, "validation_error"),
        ("people?timezone=Antarctica/Troll", 422, "invalid_timezone"),  # refused by the index
        ("language?languages=en&languages=xx", 422, "invalid_language"),  # refused by the index
        ("language?top=51", 422, "validation_error"),
        ("calendar?year=1969", 422, "validation_error"),
        ("calendar?year=twenty", 422, "validation_error"),
        ("interaction?gap_minutes=0", 422, "validation_error"),
        ("interaction?bucket=year", 422, "validation_error"),
        ("identities?limit=0", 422, "validation_error"),
    ],
)
def test_bad_requests_get_a_code_and_ask_nothing_unchecked(client, collection, path, status, code):
    headers, collection_id, fake = collection
    response = get(client, headers, collection_id, path)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    answered_by_index = "version=7" in path or "Troll" in path or "xx" in path
    assert bool(fake.of(schemas.AnalyticsRequested)) == answered_by_index


def test_another_orgs_collection_is_a_404_and_an_empty_one_a_409(app, client, auth, collection):
    owner, collection_id, fake = collection
    response = get(client, auth(org="org-b"), collection_id, "overview")
    assert (response.status_code, response.json["error"]["code"]) == (404, "collection_not_found")
    empty = create_collection(client, owner)
    response = get(client, owner, empty, "people")
    assert (response.status_code, response.json["error"]["code"]) == (409, "collection_empty")
    assert fake.of(schemas.AnalyticsRequested) == []


def test_the_openapi_document_lists_the_analytics_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for report in (
        "overview",
        "activity",
        "people",
        "conversations",
        "interaction",
        "language",
        "calendar",
        "identities",
    ):
        operation = paths[f"/api/v1/collections/{{collection_id}}/analytics/{report}"]["get"]
        assert "timezone" in {p["name"] for p in operation["parameters"]}


@pytest.mark.parametrize("report", ["interaction", "language", "calendar", "identities"])
def test_the_new_reports_answer_through_their_declared_models(client, collection, report):
    headers, collection_id, _ = collection
    response = get(client, headers, collection_id, f"{report}?timezone=Asia/Tokyo")
    assert response.status_code == 200, response.json
    assert response.json == {**REPORTS[report], "version": 2, "timezone": "Asia/Tokyo"}


def regroup(client, headers, collection_id, body):
    return client.post(f"/api/v1/collections/{collection_id}/people", json=body, headers=headers)


def test_a_merge_goes_to_the_index_and_the_version_follows_it(app, client, collection, fake_auth):
    headers, collection_id, fake = collection
    response = regroup(
        client,
        headers,
        collection_id,
        {"action": "merge", "person": "Sam W", "senders": ["Wei", "Sam"]},
    )
    assert response.status_code == 200, response.json
    assert response.json == {"version": 3, "changed": True, "people": {"Sam W": ["Sam", "Wei"]}}
    [asked] = fake.of(schemas.PeopleMergeRequested)
    assert (asked.action, asked.person, asked.senders) == ("merge", "Sam W", ["Wei", "Sam"])
    with app.extensions["chatlens.sessions"]() as session:
        assert session.get(Collection, collection_id).version == 3
    [entry] = [e for e in fake_auth.audit if e["event"] == "people.merge"]
    assert entry["target"] == collection_id and entry["details"]["senders"] == ["Wei", "Sam"]
    # Nothing changed: no audit entry.
    regroup(
        client, headers, collection_id, {"action": "merge", "person": "Same", "senders": ["Sam"]}
    )
    assert len([e for e in fake_auth.audit if e["event"] == "people.merge"]) == 1


@pytest.mark.parametrize(
    "role, body, status, code",
    [
        ("viewer", {"action": "merge", "person": "P", "senders": ["Sam"]}, 403, "forbidden"),
        (
            "analyst",
            {"action": "merge", "person": "P", "senders": ["Nobody"]},
            404,
            "sender_not_found",
        ),
        ("owner", {"action": "split", "person": "Nobody"}, 404, "person_not_found"),
        ("owner", {"action": "join", "person": "P"}, 422, "validation_error"),
        ("owner", {"action": "merge", "person": "", "senders": ["Sam"]}, 422, "validation_error"),
        (
            "owner",
            {"action": "merge", "person": "P", "senders": ["x"] * 101},
            422,
            "validation_error",
        ),
        ("owner", {"action": "merge", "person": "P", "colour": "red"}, 422, "validation_error"),
    ],
)
def test_a_regrouping_is_refused_with_a_code(
    client, auth, collection, fake_auth, role, body, status, code
):
    _, collection_id, fake = collection
    response = regroup(client, auth(role=role), collection_id, body)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert not [e for e in fake_auth.audit if e["event"].startswith("people.")]
    assert bool(fake.of(schemas.PeopleMergeRequested)) == (status == 404)


def test_another_orgs_collection_cannot_be_regrouped(client, auth, collection):
    _, collection_id, fake = collection
    response = regroup(
        client,
        auth(org="org-b"),
        collection_id,
        {"action": "merge", "person": "P", "senders": ["Sam"]},
    )
    assert (response.status_code, response.json["error"]["code"]) == (404, "collection_not_found")
    assert fake.of(schemas.PeopleMergeRequested) == []


def test_a_csv_export_neutralises_formulas_and_writes_local_times(client, collection):
    headers, collection_id, fake = collection
    response = get_export(
        client,
        headers,
        collection_id,
        "format=csv&chat=Team | Ops&since=2025-02-01&timezone=Europe/Berlin",
    )
    assert response.status_code == 200, response.json
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "time",
        "chat",
        "sender",
        "kind",
        "text",
        "message_id",
        "reply_to",
        "platform",
    ]
    assert rows[1][4] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[4][4] == "'-2 degrees\nin Porto"
    assert rows[1][0] == "2025-02-15T00:30:00+01:00"  # Berlin
    assert rows[3][2] == "" and rows[3][3] == "system"
    [asked] = fake.of(schemas.MessagesListRequested)
    assert asked.filters.chat == ["Team | Ops"] and asked.limit == 10_000
    assert asked.filters.since == datetime(2025, 1, 31, 23, tzinfo=UTC)


def test_a_json_export_and_a_markdown_transcript(client, collection):
    headers, collection_id, _ = collection
    data = get_export(client, headers, collection_id, "format=json&timezone=Asia/Tokyo").json
    assert (data["version"], data["count"], data["timezone"]) == (2, 4, "Asia/Tokyo")
    assert data["messages"][0]["time"] == "2025-02-15T08:30:00+09:00"
    assert data["messages"][0]["text"].startswith("=HYPERLINK")  # JSON keeps the text as is
    text = get_export(client, headers, collection_id, "format=markdown").get_data(as_text=True)
    assert "# Team \\| Ops" in text
    assert "## 2025-02-14" in text and "## 2025-02-15" in text
    assert "- 23:40 **Sam**: great, \\*thanks\\*! \\<b\\>" in text
    assert "- 23:50 _Sam joined_" in text
    assert "- 09:00 **Marta**: -2 degrees in Porto" in text


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("format=pdf", 422, "validation_error"),
        ("chat=Everything", 413, "window_too_large"),
        ("timezone=Mars/Olympus", 422, "invalid_timezone"),
        ("since=2025-03-01&until=2025-02-01", 422, "invalid_date_range"),
    ],
)
def test_a_bad_export_is_refused_with_a_code(client, collection, path, status, code):
    headers, collection_id, _ = collection
    response = get_export(client, headers, collection_id, path)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def get_export(client, headers, collection_id, query):
    return client.get(f"/api/v1/collections/{collection_id}/export?{query}", headers=headers)


def test_a_heatmap_cell_drills_down_to_its_messages_in_the_zone(client, collection):
    headers, collection_id, fake = collection
    response = get(
        client,
        headers,
        collection_id,
        "messages?sender=Marta&hour=9&hour=23&weekday=5&timezone=Europe/Lisbon"
        "&since=2025-02-01&limit=50&language=pt",
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["version"], body["total"], body["timezone"]) == (2, 4, "Europe/Lisbon")
    assert body["messages"][0]["sent_at"] == "2025-02-14T23:30:00+00:00"  # Lisbon is UTC+0
    assert body["messages"][3] == {
        "message_id": "m3",
        "platform": "whatsapp",
        "chat": "Team | Ops",
        "sender": "Marta",
        "sent_at": "2025-02-15T09:00:00+00:00",
        "kind": "text",
        "text": "-2 degrees\nin Porto",
    }
    [asked] = fake.of(schemas.MessagesListRequested)
    assert (asked.filters.hours, asked.filters.weekdays) == ([9, 23], [5])
    assert asked.filters.timezone == "Europe/Lisbon" and asked.filters.sender == ["Marta"]
    assert asked.limit == 50 and asked.version is None  # the latest
    assert asked.filters.language == ["pt"]
    # What the reports count: no system or service events.
    assert asked.filters.kind == ["text", "media", "deleted", "call", "poll"]


def test_a_drill_down_of_a_kind_lists_that_kind_and_of_system_events_nothing(client, collection):
    headers, collection_id, fake = collection
    assert get(client, headers, collection_id, "messages?kind=media&kind=system").status_code == 200
    [asked] = fake.of(schemas.MessagesListRequested)
    assert asked.filters.kind == ["media"]
    body = get(client, headers, collection_id, "messages?kind=system").json
    assert (body["total"], body["messages"]) == (0, [])
    assert len(fake.of(schemas.MessagesListRequested)) == 1


@pytest.mark.parametrize(
    "query, code",
    [
        ("hour=24", "validation_error"),
        ("weekday=7", "validation_error"),
        ("hour=nine", "validation_error"),
        ("limit=501", "validation_error"),
        ("timezone=Mars/Olympus", "invalid_timezone"),
    ],
)
def test_a_bad_drill_down_is_refused_and_asks_nothing(client, collection, query, code):
    headers, collection_id, fake = collection
    response = get(client, headers, collection_id, f"messages?{query}")
    assert (response.status_code, response.json["error"]["code"]) == (422, code)
    assert fake.of(schemas.MessagesListRequested) == []
