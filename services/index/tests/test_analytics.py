"""Analytics over an ingested collection, every overview and people number checked against the
plain-Python reference (``analytics_reference``) on a generated history (``analytics_data``)."""

from __future__ import annotations

import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import emoji
import pytest
import stop_words
from analytics_data import generate
from analytics_reference import calendar as expected_calendar
from analytics_reference import interaction as expected_interaction
from analytics_reference import language as expected_language
from analytics_reference import overview as expected_overview
from analytics_reference import people as expected_people
from analytics_reference import sessions
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatlens.index.analytics.language import DEFAULT_LANGUAGES
from chatlens.index.analytics.service import Analytics
from chatlens.index.deletion import Deleter
from chatlens.index.manifests import ManifestReader
from chatlens.index.people import PeopleGrouper
from chatlens.index.storage.segment import SegmentCache
from chatlens.index.storage.words import emoji_in
from chatlens.index.versions import Versions
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    AnalyticsRequested,
    ChatMessage,
    MessagesDeleteRequested,
    PeopleMergeRequested,
    SearchFilters,
    VersionRestoreRequested,
)

COUNT = 3000


@pytest.fixture(scope="module")
def history():
    return generate(COUNT)


@pytest.fixture
def analytics(layout, run_messages, job_of, history):
    """The history in two uploads (two segments), and a reader with its own segment cache."""
    half = len(history) // 2
    run_messages(job_of("j1", history[:half]).all_messages())
    run_messages(job_of("j2", history[half:]).all_messages())
    return Analytics(ManifestReader(layout), SegmentCache(8))


def ask(analytics: Analytics, report: str, **fields):
    return analytics.answer(
        AnalyticsRequested(org_id="org1", collection_id="coll1", report=report, **fields)
    )


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def pair(name: str, busiest: tuple) -> dict:
    return {name: busiest[0], "messages": busiest[1]}


def check_overview(got: dict, want: dict) -> None:
    for name in (
        "messages",
        "words",
        "participants",
        "chats",
        "active_days",
        "span_days",
        "media",
        "links",
        "edited",
        "deleted",
        "system_events",
    ):
        assert got[name] == want[name], name
    assert got["average_per_day"] == pytest.approx(want["average_per_day"])
    assert got["average_per_active_day"] == pytest.approx(want["average_per_active_day"])
    assert when(got["first"]) == want["first"] and when(got["last"]) == want["last"]
    day, count = want["busiest_day"]
    assert got["busiest_day"] == {"day": day.isoformat(), "messages": count}
    assert got["busiest_hour"] == pair("hour", want["busiest_hour"])
    assert got["busiest_weekday"] == pair("weekday", want["busiest_weekday"])
    assert got["busiest_month"] == pair("month", want["busiest_month"])
    days, first, last = want["longest_streak"]
    assert got["longest_streak"] == {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "days": days,
    }
    after, seconds = want["longest_silence"]
    assert when(got["longest_silence"]["after"]) == after
    assert got["longest_silence"]["seconds"] == seconds


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_every_overview_number_matches_an_independent_count(analytics, history, zone):
    answer = ask(analytics, "overview", timezone=zone)
    assert answer.version == 2
    check_overview(answer.result, expected_overview(history, zone))


def test_every_people_number_matches_an_independent_count(analytics, history):
    want = expected_people(history, "Europe/Lisbon", timedelta(minutes=30))
    got = ask(analytics, "people", timezone="Europe/Lisbon").result
    assert got["total"] == len(want)
    assert [p["messages"] for p in got["people"]] == sorted(
        (p["messages"] for p in want.values()), reverse=True
    )
    for person in got["people"]:
        expected = want[person["sender"]]
        for name in (
            "messages",
            "words",
            "media",
            "links",
            "emoji",
            "active_days",
            "conversations_started",
            "conversations_ended",
            "replies_given",
            "replies_received",
        ):
            assert person[name] == expected[name], (person["sender"], name)
        for name in ("average_length", "share", "median_response_seconds"):
            assert person[name] == pytest.approx(expected[name]), (person["sender"], name)
        assert when(person["first_seen"]) == expected["first_seen"]
        assert when(person["last_seen"]) == expected["last_seen"]


def test_filters_narrow_every_number_like_the_same_filter_in_python(analytics, history):
    since, until = (
        datetime.fromisoformat("2024-04-01T00:00:00+00:00"),
        datetime.fromisoformat("2024-05-01T00:00:00+00:00"),
    )
    filters = SearchFilters(
        platform=["WhatsApp"], sender=["marta", "id-Sam"], since=since, until=until
    )
    kept = [
        m
        for m in history
        if m.platform == "whatsapp" and m.sender in ("Marta", "Sam") and since <= m.sent_at < until
    ]
    check_overview(
        ask(analytics, "overview", filters=filters).result, expected_overview(kept, "UTC")
    )
    got = ask(analytics, "people", filters=filters, gap_minutes=90).result["people"]
    want = expected_people(kept, "UTC", timedelta(minutes=90))
    assert {p["sender"]: p["conversations_started"] for p in got} == {
        s: p["conversations_started"] for s, p in want.items()
    }


def test_deleted_messages_leave_every_report(analytics, history, ingestor):
    Deleter(SegmentCache(8), ingestor).delete(
        MessagesDeleteRequested(org_id="org1", collection_id="coll1", sender="Marta")
    )
    kept = [m for m in history if m.sender != "Marta"]
    check_overview(ask(analytics, "overview").result, expected_overview(kept, "UTC"))
    # The version before the deletion still counts them.
    check_overview(ask(analytics, "overview", version=2).result, expected_overview(history, "UTC"))


def test_activity_series_heatmap_and_lengths_add_up(analytics, history):
    own = [m for m in history if m.kind not in ("system", "service")]
    result = ask(
        analytics, "activity", bucket="week", stack="person", top=3, timezone="Europe/Lisbon"
    ).result
    assert sum(point["messages"] for point in result["series"]) == len(own)
    assert {point["key"] for point in result["series"]} <= {
        "Marta",
        "Inês",
        "João",
        "Sam",
        "Ana Lúcia",
        "Wei",
        "(other)",
    }
    assert len({point["key"] for point in result["series"]}) == 4
    assert all(date.fromisoformat(p["bucket"]).isoweekday() == 1 for p in result["series"])
    assert sum(map(sum, result["heatmap"])) == len(own)
    assert len(result["heatmap"]) == 7 and all(len(row) == 24 for row in result["heatmap"])
    assert sum(b["messages"] for b in result["lengths"]) == len(own)
    empty = sum(1 for m in own if not m.text)
    assert result["lengths"][0] == {"min": 0, "max": 0, "messages": empty}


def test_conversations_match_the_sessions_split_in_python(analytics, history):
    want = sessions(history, timedelta(minutes=45))
    got = ask(analytics, "conversations", gap_minutes=45).result
    assert got["count"] == len(want)
    assert got["messages"] == sum(map(len, want))
    longest = max(want, key=lambda s: (len(s), -s[0].sent_at.timestamp()))
    assert got["longest"]["messages"] == len(longest)
    assert when(got["longest"]["started_at"]) == longest[0].sent_at
    assert sum(b["conversations"] for b in got["sizes"]) == len(want)
    assert got["longest"]["participants"] == len({m.sender for m in longest})
    starters = Counter(s[0].sender for s in want)
    assert {row["sender"]: row["conversations"] for row in got["started_by"]} == dict(
        sorted(starters.items(), key=lambda item: (-item[1], item[0] is None, item[0]))[
            : len(got["started_by"])
        ]
    )


def test_ice_breakers_start_conversations_after_a_day_of_silence(analytics, history):
    by_chat: dict = {}
    for m in sorted(
        (m for m in history if m.kind not in ("system", "service")),
        key=lambda m: (m.sent_at, m.seq),
    ):
        by_chat.setdefault(m.chat, []).append(m)
    want = Counter(
        m.sender
        for said in by_chat.values()
        for before, m in zip(said, said[1:], strict=False)
        if m.sent_at - before.sent_at > timedelta(hours=24)
    )
    got = ask(analytics, "conversations", top=50).result
    assert got["ice_break_hours"] == 24 and sum(want.values()) > 0
    assert {r["sender"]: r["conversations"] for r in got["ice_breakers"]} == dict(want)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "UTC'; DROP TABLE m; --"])
def test_an_unknown_time_zone_is_refused(analytics, zone):
    with pytest.raises(PermanentError) as refused:
        ask(analytics, "overview", timezone=zone)
    assert refused.value.code == "invalid_timezone"


def test_an_empty_selection_answers_zeros(analytics):
    result = ask(analytics, "overview", filters=SearchFilters(chat=["nobody here"])).result
    assert result["messages"] == 0 and result["busiest_day"] is None
    assert ask(analytics, "people", filters=SearchFilters(chat=["x"])).result["people"] == []


def test_reports_asked_from_several_threads_at_once_are_each_right(analytics, history):
    """The RPC server answers on several threads; each keeps its own DuckDB connection."""
    zones = ["UTC", "Asia/Kolkata", "America/New_York", "UTC"] * 3
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda zone: ask(analytics, "overview", timezone=zone).result, zones)
        )
    for zone, answer in zip(zones, answers, strict=True):
        check_overview(answer, expected_overview(history, zone))


def cells(found: list[dict]) -> dict:
    return {(c["sender"], c["recipient"]): c for c in found}


def test_every_interaction_number_matches_an_independent_count(analytics, history):
    want = expected_interaction(history, timedelta(minutes=30))
    got = ask(analytics, "interaction", timezone="Europe/Lisbon", top=5).result
    for matrix in ("replies", "responses"):
        found = cells(got[matrix])
        assert set(found) == set(want[matrix]), matrix
        for pair, (count, median) in want[matrix].items():
            assert found[pair]["count"] == count, (matrix, pair)
            assert found[pair]["median_seconds"] == pytest.approx(median), (matrix, pair)
        assert [c["count"] for c in got[matrix]] == sorted(
            (c["count"] for c in got[matrix]), reverse=True
        )
    assert {pair: c["count"] for pair, c in cells(got["mentions"]).items()} == want["mentions"]
    assert want["mentions"] and want["threads"] and want["trees"]  # the data has all three
    threads = got["threads"]
    assert threads["count"] == len(want["threads"])
    assert threads["messages"] == sum(map(len, want["threads"].values()))
    longest = sorted(want["threads"].values(), key=lambda t: (-len(t), t[0].sent_at))[0]
    assert threads["longest"][0]["messages"] == len(longest)
    assert threads["longest"][0]["participants"] == len({m.sender for m in longest})
    assert when(threads["longest"][0]["started_at"]) == min(m.sent_at for m in longest)
    trees = got["reply_trees"]
    assert trees["count"] == len(want["trees"])
    assert trees["messages"] == sum(size for size, _ in want["trees"].values())
    assert trees["deepest"] == max(depth for _, depth in want["trees"].values())
    for tree in trees["longest"]:
        assert (tree["messages"], tree["depth"]) == want["trees"][tree["message_id"]]


def test_replies_and_responses_over_time_match_an_independent_count(analytics, history):
    zone = ZoneInfo("Asia/Kolkata")
    own = [m for m in history if m.kind not in ("system", "service")]
    by_id = {m.message_id: m for m in own}
    replies = Counter(
        m.sent_at.astimezone(zone).strftime("%Y-%m-01")
        for m in own
        if m.reply_to in by_id and m.sender and by_id[m.reply_to].sender
    )
    waits: dict = {}
    for session in sessions(history, timedelta(minutes=30)):
        for before, m in zip(session, session[1:], strict=False):
            if None not in (m.sender, before.sender) and m.sender != before.sender:
                waits.setdefault(m.sent_at.astimezone(zone).strftime("%Y-%m-01"), []).append(
                    (m.sent_at - before.sent_at).total_seconds()
                )
    got = ask(analytics, "interaction", timezone="Asia/Kolkata", bucket="month").result
    assert got["bucket"] == "month"
    assert {p["bucket"]: p["replies"] for p in got["over_time"] if p["replies"]} == replies
    assert {p["bucket"]: p["responses"] for p in got["over_time"] if p["responses"]} == {
        b: len(w) for b, w in waits.items()
    }
    for point in got["over_time"]:
        if point["responses"]:
            assert point["median_response_seconds"] == pytest.approx(
                statistics.median(waits[point["bucket"]])
            )


def test_interaction_follows_the_filters(analytics, history):
    filters = SearchFilters(platform=["whatsapp"])
    kept = [m for m in history if m.platform == "whatsapp"]
    got = ask(analytics, "interaction", filters=filters).result
    want = expected_interaction(kept, timedelta(minutes=30))
    assert {pair: c["count"] for pair, c in cells(got["replies"]).items()} == {
        pair: count for pair, (count, _) in want["replies"].items()
    }
    assert got["threads"]["count"] == 0  # the threads are on Slack


def check_language(got: dict, want: dict, top: int) -> None:
    """The report's top words, phrases, emoji and domains are the reference's, in order."""
    for name, key in (
        ("words", "word"),
        ("phrases", "phrase"),
        ("emoji", "emoji"),
        ("domains", "domain"),
    ):
        ranked = sorted(want[name].items(), key=lambda item: (-item[1], item[0]))
        if name == "phrases":
            ranked = [item for item in ranked if item[1] > 1]
        assert [(r[key], r["count"]) for r in got[name]] == ranked[:top], name


@pytest.mark.parametrize("languages", [[], ["en"], ["pt", "en"]])
def test_every_language_number_matches_an_independent_count(analytics, history, languages):
    stop = {
        w.lower()
        for code in (languages or DEFAULT_LANGUAGES)
        for w in stop_words.get_stop_words(code)
    }
    want = expected_language(history, stop)
    got = ask(analytics, "language", top=50, languages=languages).result
    assert got["languages"] == (sorted(languages) or list(DEFAULT_LANGUAGES))
    check_language(got, want, 50)
    assert got["words"] and got["phrases"] and got["emoji"] and got["domains"]
    assert "see" not in {r["word"] for r in got["words"]}  # an English stop word


def test_the_top_words_are_counted_per_month(analytics, history):
    stop = {w.lower() for code in DEFAULT_LANGUAGES for w in stop_words.get_stop_words(code)}
    got = ask(analytics, "language", timezone="America/New_York").result
    shown = [w["word"] for w in got["words"][:5]]
    zone = ZoneInfo("America/New_York")
    want: Counter = Counter()
    for m in history:
        if m.kind in ("system", "service") or m.deleted or m.kind == "deleted":
            continue
        month = m.sent_at.astimezone(zone).strftime("%Y-%m")
        for word, n in expected_language([m], stop)["words"].items():
            if word in shown:
                want[(month, word)] += n
    assert {(p["month"], p["word"]): p["count"] for p in got["words_by_month"]} == dict(want)
    assert {w for _, w in want} == set(shown) and len(shown) == 5


def test_sentiment_scores_every_message_by_month(analytics, history):
    got = ask(analytics, "language").result["sentiment"]
    analyzer = SentimentIntensityAnalyzer()
    scores: dict[str, list[float]] = {}
    for m in said(history):
        month = m.sent_at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m")
        scores.setdefault(month, []).append(analyzer.polarity_scores(m.text)["compound"])
    every = [s for month in scores.values() for s in month]
    assert got["model"] == "vaderSentiment" and got["scored"] == len(every)
    assert got["positive"] == sum(s >= 0.05 for s in every) / len(every)
    assert got["negative"] == sum(s <= -0.05 for s in every) / len(every)
    assert got["positive"] + got["negative"] + got["neutral"] == pytest.approx(1)
    assert [(m["month"], m["messages"]) for m in got["months"]] == [
        (month, len(v)) for month, v in sorted(scores.items())
    ]
    for month in got["months"]:  # kept as float32 in the columns
        assert month["mean"] == pytest.approx(statistics.fmean(scores[month["month"]]), abs=1e-6)
    assert ask(analytics, "language").result["sentiment"] == got


def said(messages: list[ChatMessage]) -> list[ChatMessage]:
    """What the language report reads: authored, undeleted messages with text."""
    return [
        m
        for m in messages
        if m.kind not in ("system", "service") and not (m.deleted or m.kind == "deleted") and m.text
    ]


def test_more_messages_than_the_old_sample_are_all_counted(layout, run_messages, job_of):
    """25,000 messages (the report once read a sample of 20,000 of them): every word, phrase,
    emoji and domain count is the plain-Python count over all of them, a sender filter's too."""
    many = generate(25_000, seed=3)
    run_messages(job_of("j1", many[:12_000]).all_messages())
    run_messages(job_of("j2", many[12_000:]).all_messages())
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))
    stop = {w.lower() for code in DEFAULT_LANGUAGES for w in stop_words.get_stop_words(code)}
    for sender, kept in ((None, many), ("Marta", [m for m in many if m.sender == "Marta"])):
        fields = {"filters": SearchFilters(sender=[sender])} if sender else {}
        got = ask(analytics, "language", top=50, **fields).result
        want = expected_language(kept, stop)
        assert got["messages"] == len(said(kept)) and len(said(many)) > 20_000
        check_language(got, want, 50)
        assert got["sentiment"]["scored"] == len(said(kept))


def test_an_unknown_stop_word_language_is_refused(analytics):
    with pytest.raises(PermanentError) as refused:
        ask(analytics, "language", languages=["en", "xx"])
    assert refused.value.code == "invalid_language"


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_calendar_counts_each_day_of_a_year(analytics, history, zone):
    got = ask(analytics, "calendar", timezone=zone).result
    tz = ZoneInfo(zone)
    years = sorted(
        {m.sent_at.astimezone(tz).year for m in history if m.kind not in ("system", "service")}
    )
    assert got["years"] == years and got["year"] == years[-1]
    for year in years:
        got = ask(analytics, "calendar", timezone=zone, year=year).result
        want = expected_calendar(history, zone, year)
        assert {date.fromisoformat(d["day"]): d["messages"] for d in got["days"]} == want
        assert got["total"] == sum(want.values()) and got["max"] == max(want.values())
    assert ask(analytics, "calendar", year=1999).result["days"] == []


def test_people_written_differently_are_suggested_with_their_evidence(layout, run_messages, job_of):
    """Suggested merges (people across platforms): each group and why, and nothing else."""
    start = datetime.fromisoformat("2025-01-06T09:00:00+00:00")
    said = [
        ("whatsapp", "Marta"),
        ("whatsapp", "~ Marta"),
        ("telegram", "marta"),
        ("telegram", "Inês Costa"),
        ("slack", "Ines Costa"),
        ("slack", "Inês"),
        ("whatsapp", "+351 912 345 678"),
        ("telegram", "+351912345678"),
        ("discord", "wei.zhang@example.com"),
        ("slack", "Wei Zhang"),
        ("whatsapp", "Sam"),
        ("telegram", "Samuel"),
        ("whatsapp", "Marta"),
    ]
    messages = [
        ChatMessage(
            message_id=f"p{i}",
            platform=platform,
            chat=f"{platform} chat",
            sender=sender,
            sent_at=start + timedelta(minutes=i),
            tz_assumption="UTC",
            text=f"hello {i}",
            seq=i,
            source_file="people.txt",
        )
        for i, (platform, sender) in enumerate(said)
    ]
    run_messages(job_of("j1", messages).all_messages())
    got = ask(Analytics(ManifestReader(layout), SegmentCache(8)), "identities").result
    found = {tuple(p["sender"] for p in s["senders"]): s["evidence"] for s in got["suggestions"]}
    assert found == {
        ("Marta", "marta", "~ Marta"): ["same name"],
        ("Ines Costa", "Inês Costa"): ["same name"],
        ("Ines Costa", "Inês", "Inês Costa"): ["first name"],  # a weaker hint, apart
        ("+351 912 345 678", "+351912345678"): ["same phone number"],
        ("Wei Zhang", "wei.zhang@example.com"): ["same handle"],
    }
    marta = next(s for s in got["suggestions"] if "~ Marta" in [p["sender"] for p in s["senders"]])
    assert marta["messages"] == 4
    assert {p["sender"]: p["platforms"] for p in marta["senders"]} == {
        "Marta": ["whatsapp"],
        "~ Marta": ["whatsapp"],
        "marta": ["telegram"],
    }
    assert got["senders"] == len(set(s for _, s in said)) and got["total"] == len(found)
    assert got["people"] == {}  # nothing merged yet


def regroup(ingestor, action: str, person: str, senders: list[str], request_id: str = ""):
    request = PeopleMergeRequested(
        org_id="org1", collection_id="coll1", action=action, person=person, senders=senders
    )
    if request_id:
        request = request.model_copy(update={"id": request_id})
    return PeopleGrouper(SegmentCache(8), ingestor).group(request)


def test_merged_senders_count_as_one_person_in_every_report_from_that_version(
    analytics, history, ingestor
):
    merged = regroup(ingestor, "merge", "Sam W", ["Sam", "Wei"])
    assert (merged.version, merged.changed, merged.people) == (3, True, {"Sam W": ["Sam", "Wei"]})
    as_person = [
        m.model_copy(update={"sender": "Sam W"}) if m.sender in ("Sam", "Wei") else m
        for m in history
    ]
    want = expected_people(as_person, "UTC", timedelta(minutes=30))
    got = {p["sender"]: p for p in ask(analytics, "people").result["people"]}
    assert set(got) == set(want) and "Sam" not in got
    for name in (
        "messages",
        "words",
        "conversations_started",
        "replies_given",
        "replies_received",
        "active_days",
    ):
        assert got["Sam W"][name] == want["Sam W"][name], name
    assert got["Sam W"]["median_response_seconds"] == pytest.approx(
        want["Sam W"]["median_response_seconds"]
    )
    check_overview(ask(analytics, "overview").result, expected_overview(as_person, "UTC"))
    # A sender filter naming the person selects all of its names.
    only = ask(analytics, "overview", filters=SearchFilters(sender=["sam w"])).result
    assert only["messages"] == want["Sam W"]["messages"]
    assert ask(analytics, "identities").result["people"] == {"Sam W": ["Sam", "Wei"]}
    # The version before the merge still counts them apart.
    before = {p["sender"] for p in ask(analytics, "people", version=2).result["people"]}
    assert {"Sam", "Wei"} <= before and "Sam W" not in before


def test_a_split_a_redelivery_and_a_change_that_changes_nothing(analytics, history, ingestor):
    regroup(ingestor, "merge", "Sam W", ["Sam", "Wei"], request_id="r1")
    again = regroup(ingestor, "merge", "Sam W", ["Sam", "Wei"], request_id="r1")
    assert (again.version, again.people) == (3, {"Sam W": ["Sam", "Wei"]})
    same = regroup(ingestor, "merge", "Sam W", ["Wei"])
    assert (same.version, same.changed) == (3, False)
    moved = regroup(ingestor, "merge", "Wei Zhang", ["Wei"])  # a name leaves its person
    assert moved.people == {"Sam W": ["Sam"], "Wei Zhang": ["Wei"]}
    split = regroup(ingestor, "split", "Sam W", [])
    assert (split.version, split.people) == (5, {"Wei Zhang": ["Wei"]})
    senders = {p["sender"] for p in ask(analytics, "people").result["people"]}
    assert "Sam" in senders and "Wei Zhang" in senders and "Wei" not in senders


@pytest.mark.parametrize(
    "action, person, senders, code",
    [
        ("merge", "X", ["Nobody"], "sender_not_found"),
        ("merge", "X", ["Sam", "Somebody else"], "sender_not_found"),
        ("merge", "X", [], "sender_not_found"),
        ("split", "Nobody", ["Sam"], "person_not_found"),
    ],
)
def test_a_regrouping_naming_what_the_collection_lacks_is_refused(
    analytics, ingestor, action, person, senders, code
):
    with pytest.raises(PermanentError) as refused:
        regroup(ingestor, action, person, senders)
    assert refused.value.code == code
    assert ask(analytics, "overview").version == 2  # no version made


def test_restoring_a_version_brings_its_grouping_back(analytics, layout, ingestor):
    regroup(ingestor, "merge", "Sam W", ["Sam", "Wei"])  # version 3
    restored = Versions(ManifestReader(layout), SegmentCache(8), ingestor).restore(
        VersionRestoreRequested(org_id="org1", collection_id="coll1", version=2)
    )
    senders = {p["sender"] for p in ask(analytics, "people").result["people"]}
    assert restored.version == 4 and {"Sam", "Wei"} <= senders and "Sam W" not in senders
    Versions(ManifestReader(layout), SegmentCache(8), ingestor).restore(
        VersionRestoreRequested(org_id="org1", collection_id="coll1", version=3)
    )
    assert "Sam W" in {p["sender"] for p in ask(analytics, "people").result["people"]}


@pytest.mark.parametrize(
    "text",
    [
        "a 👍🏽 b",
        "❤ plain ❤️",
        "👨‍👩‍👧‍👦 x",
        "🏳️‍🌈",
        "#️⃣ 1️⃣ *️⃣",
        "👩🏽‍💻 dev",
        "🫠",
        "😀😀",
        "✌ victory",
        "🇵🇹🇧🇷",
        "© 2024 ®",
        "ação 🎉",
        "日本語😂テキスト",
        "x\u200d😂",
        "🇵 alone",
        "👍🏿👍🏻",
        "🏃🏻\u200d♀\u200d🚴🏽",
        "plain ascii",
        "",
    ],
)
def test_the_fast_emoji_scan_finds_what_emoji_list_finds(text):
    assert emoji_in(text) == [e["emoji"] for e in emoji.emoji_list(text)]
