"""Telegram Desktop's result.json: one chat or a whole account, streamed, every message kind."""

from __future__ import annotations

from datetime import UTC, datetime

from chatlens.embedding_worker.parsing import parse_any
from chatlens.embedding_worker.parsing.telegram import rebuild_text


def parse(fixtures_dir, name, **options):
    result = parse_any(fixtures_dir / "telegram" / name, **options)
    return result, list(result.messages)


def test_a_single_chat_export_gives_every_kind_of_message(fixtures_dir):
    result, messages = parse(fixtures_dir, "result.json")

    assert [m.kind for m in messages] == [
        "service",
        "text",
        "text",
        "media",
        "media",
        "text",
        "poll",
        "call",
        "text",
    ]
    assert {m.chat for m in messages} == {"Climbing Crew"}
    assert [m.native_id for m in messages] == [str(n) for n in range(101, 110)]
    assert result.diagnostics.as_stats()["variant"] == "chat"


def test_service_messages_are_typed_events_that_are_not_embedded(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")
    created, call = messages[0], messages[7]

    assert (created.sender, created.sender_id) == ("Ines Duarte", "user5550101")
    assert created.text == "Ines Duarte: create group (Climbing Crew)"
    assert call.text == "Ines Duarte: phone call (95 s)"
    assert not created.embeddable and not call.embeddable


def test_a_mixed_array_text_is_rebuilt_from_its_entities(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")

    assert messages[2].text == "Me! Booked via https://boulder.example/book for 10:00"


def test_rebuild_text_reads_the_array_when_there_are_no_entities():
    assert rebuild_text({"text": ["a ", {"type": "bold", "text": "b"}, 3, " c"]}) == "a b c"
    assert rebuild_text({"text": "plain"}) == "plain"
    assert rebuild_text({}) == ""


def test_replies_edits_forwards_and_reactions_are_kept(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")
    question, answer, forwarded = messages[1], messages[2], messages[5]

    assert answer.reply_to == question.message_id
    assert answer.edited and not question.edited
    assert [(r.emoji, r.count, r.users) for r in answer.reactions] == [
        ("\U0001f44d", 2, ["Ines Duarte"])
    ]
    assert forwarded.forwarded_from == "Boulder Gym News"


def test_media_is_metadata_and_a_poll_is_its_question_and_answers(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")
    photo, voice, poll = messages[3], messages[4], messages[6]

    assert photo.text == "the new wall" and photo.embeddable
    assert [(a.name, a.type, a.size) for a in photo.attachments] == [
        ("photo_1@02-03-2024_09-10-00.jpg", "photo", 84211)
    ]
    assert [(a.type, a.mime, a.size) for a in voice.attachments] == [
        ("voice_message", "audio/ogg", 20833)
    ]
    assert not voice.embeddable  # no caption: nothing to embed
    assert poll.text == "Lunch after?\n- Ramen\n- Pizza" and poll.embeddable


def test_invalid_hex_escapes_and_duplicate_keys_are_tolerated(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")

    # "Caf\xe9": the exporter's invalid escape read as the character it meant; the last key wins.
    assert messages[5].text == "Caf\u00e9 opens at 9 on weekends (dup key, the last wins)"


def test_a_deleted_account_has_no_sender_name_but_keeps_its_id(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json")

    assert (messages[8].sender, messages[8].sender_id) == (None, "user5550303")


def test_date_unixtime_is_the_truth_whatever_zone_is_given(fixtures_dir):
    _, messages = parse(fixtures_dir, "result.json", timezone="Asia/Tokyo")

    assert messages[1].sent_at == datetime(2024, 3, 2, 9, 1, 10, tzinfo=UTC)
    assert messages[1].tz_assumption == "exact (date_unixtime)"
    assert messages[1].original_timestamp == "2024-03-02T09:01:10"


def test_without_date_unixtime_the_local_date_is_read_in_the_given_zone(fixtures_dir):
    _, messages = parse(fixtures_dir, "local-dates.json", timezone="Europe/Lisbon")

    assert messages[0].sent_at == datetime(2021, 7, 4, 7, 30, tzinfo=UTC)  # WEST is UTC+1
    assert messages[0].tz_assumption == "Europe/Lisbon (given)"
    _, assumed = parse(fixtures_dir, "local-dates.json")
    assert assumed[0].sent_at == datetime(2021, 7, 4, 8, 30, tzinfo=UTC)
    assert assumed[0].tz_assumption == "UTC (assumed)"


def test_a_full_account_export_reads_every_chat_with_its_json_path(fixtures_dir):
    result, messages = parse(fixtures_dir, "account.json")

    assert [(m.chat, m.source_path) for m in messages] == [
        ("Climbing Crew", "$.chats.list[0].messages[0]"),
        ("Climbing Crew", "$.chats.list[0].messages[1]"),
        ("Climbing Crew", "$.chats.list[0].messages[2]"),
        ("Saved Messages", "$.chats.list[1].messages[0]"),
        ("Old Flat", "$.left_chats.list[0].messages[0]"),
    ]
    stats = result.diagnostics.as_stats()
    assert (stats["variant"], stats["chats"], stats["messages"]) == ("account", 3, 5)
    assert result.total == 5


def test_media_left_out_of_the_export_is_still_an_attachment_without_a_name(fixtures_dir):
    _, messages = parse(fixtures_dir, "local-dates.json")

    assert messages[2].kind == "media"
    assert [(a.name, a.type) for a in messages[2].attachments] == [(None, "photo")]
