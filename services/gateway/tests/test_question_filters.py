"""A question's own filters, read against the collection's real senders and chats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatlens.gateway.question_filters import interpret

NOW = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # a Saturday
SENDERS = ["Alice", "Bob Stone", "Maria Lopez", "Marta"]
CHATS = ["ops", "#general", "Team Lisbon"]


def read(question: str):
    return interpret(question, SENDERS, CHATS, NOW)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_what_did_alice_say_in_march_is_a_sender_and_the_latest_march():
    found = read("What did Alice say in March?")

    assert found.senders == ["Alice"]
    assert (found.since, found.until) == (day("2026-03-01"), day("2026-04-01"))
    assert found.matched == {"sender": "did Alice", "dates": "in March"}


def test_in_ops_last_week_is_a_chat_and_the_previous_calendar_week():
    found = read("anything decided in #ops last week?")

    assert found.chats == ["ops"] and found.senders == []
    assert (found.since, found.until) == (day("2026-11-09"), day("2026-11-16"))


@pytest.mark.parametrize(
    ("question", "sender"),
    [
        ("What were Maria's objections to the pricing?", "Maria Lopez"),  # a unique first name
        ("Bob Stone mentioned pricing when?", "Bob Stone"),
        ("show messages from marta", "Marta"),
        ("according to Alice, when is it?", "Alice"),
    ],
)
def test_a_speaker_is_recognised_in_the_ways_people_name_one(question, sender):
    assert read(question).senders == [sender]


@pytest.mark.parametrize(
    "question",
    [
        "Alice's birthday party plans?",  # a topic, not a speaker
        "what did Zoe say?",  # nobody of that name wrote here
        "what happened in general?",  # "in general" is English, not the #general chat
    ],
)
def test_names_that_are_not_speakers_or_not_here_are_not_filters(question):
    found = read(question)
    assert found.senders == [] and found.chats == []


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("yesterday", "2026-11-20", "2026-11-21"),
        ("in December", "2025-12-01", "2026-01-01"),  # the latest December not in the future
        ("in 2025", "2025-01-01", "2026-01-01"),
        ("on 2026-02-14", "2026-02-14", "2026-02-15"),
        ("between 1 March 2025 and 15 March 2025", "2025-03-01", "2025-03-16"),
        ("2 weeks ago", "2026-11-02", "2026-11-09"),
        ("this month", "2026-11-01", "2026-12-01"),
    ],
)
def test_dates_are_windows_relative_to_now(question, since, until):
    found = read(question)
    assert (found.since, found.until) == (day(since), day(until))


def test_open_ended_dates_bound_one_side():
    since = read("messages from Marta since 3 March")
    assert since.senders == ["Marta"]
    assert (since.since, since.until) == (day("2026-03-03"), None)
    before = read("what did we plan before 2025-06-01")
    assert (before.since, before.until) == (None, day("2025-06-01"))


def test_a_chat_with_capitals_is_recognised_as_written():
    found = read("what happened in Team Lisbon in 2025")
    assert found.chats == ["Team Lisbon"]
    assert read("what did Bob write in the ops channel").chats == ["ops"]
