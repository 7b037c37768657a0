"""DiscordChatExporter JSON: snowflake ids, offsets, replies, edits, reactions, system types."""

from __future__ import annotations

from datetime import UTC, datetime

from chatlens.embedding_worker.parsing import parse_any

PART_1 = "discord/Makers - general [1020304050607080].json"
PART_2 = "discord/Makers - general [1020304050607080] [part 2].json"


def parse(fixtures_dir, name):
    result = parse_any(fixtures_dir / name)
    return result, list(result.messages)


def test_messages_keep_their_snowflakes_and_the_channel_names_the_chat(fixtures_dir):
    result, messages = parse(fixtures_dir, PART_1)

    assert [m.native_id for m in messages] == [
        "1235000000000000001",
        "1235000000000000002",
        "1235000000000000003",
    ]
    assert {m.chat for m in messages} == {"Makers / general"}
    assert result.total == 3


def test_timestamps_with_offsets_are_converted_to_utc(fixtures_dir):
    _, messages = parse(fixtures_dir, PART_1)

    assert messages[1].sent_at == datetime(2024, 5, 1, 7, 1, 30, 517000, tzinfo=UTC)
    assert messages[1].original_timestamp == "2024-05-01T09:01:30.517+02:00"
    assert messages[1].tz_assumption == "offset in the file"


def test_replies_edits_reactions_and_attachments(fixtures_dir):
    _, messages = parse(fixtures_dir, PART_1)
    question, answer = messages[1], messages[2]

    assert answer.reply_to == question.message_id
    assert answer.edited and not question.edited
    assert (answer.sender, answer.sender_id) == ("mei", "555000000000000002")
    assert question.sender == "Ravi"  # the server nickname over the user name
    assert [(r.emoji, r.count, r.users) for r in question.reactions] == [("\U0001f440", 2, ["Mei"])]
    assert [(a.name, a.size) for a in answer.attachments] == [("benchy.jpg", 201344)]


def test_system_message_types_are_service_events(fixtures_dir):
    _, first = parse(fixtures_dir, PART_1)
    _, second = parse(fixtures_dir, PART_2)

    assert (first[0].kind, first[0].text) == ("service", "Ravi: guild member join")
    assert (second[1].kind, second[1].text) == ("service", "Pinned a message.")
    assert not first[0].embeddable and not second[1].embeddable
    assert (second[2].kind, second[2].attachments[0].name) == ("media", "timelapse.mp4")


THREAD = "discord/Makers - general - PETG settings [1235000000000000002].json"


def test_a_thread_export_belongs_to_its_parent_channel_with_a_thread_id(fixtures_dir):
    _, channel = parse(fixtures_dir, PART_1)
    _, thread = parse(fixtures_dir, THREAD)

    assert {m.chat for m in thread} == {"Makers / general"}
    # The thread was started from "Anyone printed PETG ...": its id is that message's.
    assert {m.thread_id for m in thread} == {channel[1].message_id}
    assert thread[1].reply_to == thread[0].message_id
    assert all(m.thread_id is None for m in channel)


def test_a_private_thread_without_a_known_parent_is_its_own_thread(tmp_path, fixtures_dir):
    text = (fixtures_dir / THREAD).read_text(encoding="utf-8")
    text = text.replace(
        '"GuildPublicThread", "categoryId": "1020304050607080", "category": "general"',
        '"GuildPrivateThread", "categoryId": null, "category": null',
    )
    path = tmp_path / "private.json"
    path.write_text(text, encoding="utf-8")

    _, messages = parse(tmp_path, "private.json")

    assert {m.chat for m in messages} == {"Makers / PETG settings"}
    assert len({m.thread_id for m in messages}) == 1 and messages[0].thread_id is not None
