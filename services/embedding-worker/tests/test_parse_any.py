"""parse_any: one entry point that recognises every export by its content, or takes a forced one."""

from __future__ import annotations

import shutil

import pytest

from chatlens.embedding_worker.parsing import (
    FORMATS,
    NotAChatExport,
    UnsupportedFormat,
    parse_any,
)

STATS_KEYS = {"format", "messages", "system_events", "media", "skipped_lines", "skipped_examples"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WhatsApp Chat with Book Club.txt", "whatsapp"),
        ("WhatsApp Chat - Running.txt", "whatsapp"),  # iOS: starts with "[" like JSON
        ("telegram/result.json", "telegram"),
        ("telegram/account.json", "telegram"),
        ("discord/Makers - general [1020304050607080].json", "discord"),
        ("chatgpt/conversations.json", "chatgpt"),
        ("generic/messages.csv", "csv"),
        ("generic/messages.jsonl", "jsonl"),
    ],
)
def test_each_format_is_recognised_by_its_content(fixtures_dir, tmp_path, name, expected):
    # Under a neutral name, so only the content can tell.
    path = tmp_path / "upload.bin"
    shutil.copy(fixtures_dir / name, path)

    result = parse_any(path)
    messages = list(result.messages)

    assert result.format == expected
    stats = result.diagnostics.as_stats()
    assert STATS_KEYS <= set(stats)
    assert stats["format"] == expected and stats["messages"] == len(messages) > 0


def test_a_slack_export_zip_is_recognised(slack_zip):
    assert parse_any(slack_zip).format == "slack"


def test_the_format_list_is_the_contract():
    assert FORMATS == ("whatsapp", "telegram", "slack", "discord", "chatgpt", "csv", "jsonl")


def test_a_forced_format_is_used_even_where_detection_would_differ(fixtures_dir):
    # A JSON-lines file read as CSV has no header the mapping knows: refused, not guessed around.
    with pytest.raises(NotAChatExport) as refused:
        parse_any(fixtures_dir / "generic/messages.jsonl", format="csv")
    assert refused.value.reason == "no_column_mapping" and refused.value.location == "line 1"


def test_an_unknown_format_name_is_refused_with_its_own_code(fixtures_dir):
    with pytest.raises(UnsupportedFormat) as refused:
        parse_any(fixtures_dir / "telegram/result.json", format="icq")
    assert refused.value.code == "unsupported_format"
    assert "whatsapp, telegram" in str(refused.value)


def test_messages_stream_lazily_and_diagnostics_complete_at_the_end(fixtures_dir):
    result = parse_any(fixtures_dir / "telegram/result.json")
    assert result.diagnostics.messages == 0
    first = next(result.messages)
    assert first.seq == 0 and result.diagnostics.messages == 1
    rest = list(result.messages)
    assert result.diagnostics.as_stats()["messages"] == 1 + len(rest) == result.total == 9


def test_a_json_file_of_another_kind_is_not_a_chat_export(tmp_path):
    path = tmp_path / "package.json"
    path.write_text('{"name": "left-pad", "version": "1.3.0", "dependencies": {}}')

    with pytest.raises(NotAChatExport) as refused:
        parse_any(path)
    assert refused.value.reason == "unknown_json"


def test_a_zip_with_no_export_in_it_is_refused(tmp_path, make_zip):
    path = make_zip(tmp_path / "photos.zip", {"a.jpg": b"\xff\xd8", "b.jpg": b"\xff\xd8"})

    with pytest.raises(NotAChatExport) as refused:
        parse_any(path)
    assert refused.value.reason == "unknown_archive"


def test_whatsapp_inside_a_zip_reads_like_the_text_file(fixtures_dir, tmp_path, make_zip):
    text = fixtures_dir / "WhatsApp Chat - Flat 3B.txt"
    path = make_zip(
        tmp_path / "WhatsApp Chat - Flat 3B.zip",
        {"_chat.txt": text, "IMG-20240102-WA0001.jpg": b"\xff\xd8" * 50},
    )

    zipped = parse_any(path)
    from_zip = list(zipped.messages)
    plain = list(parse_any(text).messages)

    assert zipped.format == "whatsapp"
    assert [m.message_id for m in from_zip] == [m.message_id for m in plain]
    assert {m.source_path for m in from_zip} == {"_chat.txt"}
    assert from_zip[0].source_file == "WhatsApp Chat - Flat 3B.zip"


def test_chatgpt_export_zip_is_read_through_its_conversations_json(
    fixtures_dir, tmp_path, make_zip
):
    path = make_zip(
        tmp_path / "export.zip",
        {
            "conversations.json": fixtures_dir / "chatgpt/conversations.json",
            "chat.html": b"<html></html>",
            "user.json": b"{}",
        },
    )

    result = parse_any(path)

    assert result.format == "chatgpt"
    assert len(list(result.messages)) == 8


def test_an_archive_of_several_exports_is_read_export_by_export(fixtures_dir, tmp_path, make_zip):
    path = make_zip(
        tmp_path / "exports.zip",
        {
            "WhatsApp Chat with Ops.txt": fixtures_dir / "WhatsApp Chat with Ops.txt",
            "WhatsApp Chat - Flat 3B.txt": fixtures_dir / "WhatsApp Chat - Flat 3B.txt",
            "discord/general.json": fixtures_dir
            / "discord/Makers - general [1020304050607080].json",
            "README.txt": b"These are my exports, see you.\n",
        },
    )

    result = parse_any(path)
    messages = list(result.messages)

    assert result.format == "mixed"
    assert [m.seq for m in messages] == list(range(len(messages)))
    assert {m.chat for m in messages} == {"Ops", "Flat 3B", "Makers / general"}
    stats = result.diagnostics.as_stats()
    assert stats["messages"] == len(messages) == 7 + 9 + 3 and stats["chats"] == 3
    assert [(p["path"], p["format"]) for p in stats["parts"]] == [
        ("WhatsApp Chat with Ops.txt", "whatsapp"),
        ("WhatsApp Chat - Flat 3B.txt", "whatsapp"),
        ("discord/general.json", "discord"),
    ]
    [refused] = stats["skipped_examples"]
    assert refused["path"] == "exports.zip:README.txt" and "WhatsApp" in refused["reason"]
    # The same chats as when uploaded one by one: the same ids.
    alone = {m.message_id for m in parse_any(fixtures_dir / "WhatsApp Chat with Ops.txt").messages}
    assert alone <= {m.message_id for m in messages}


def test_an_archive_of_files_none_of_which_is_an_export_is_refused(tmp_path, make_zip):
    path = make_zip(tmp_path / "notes.zip", {"a.txt": b"hello\n", "b.txt": b"world\n"})

    with pytest.raises(NotAChatExport) as refused:
        parse_any(path)
    assert refused.value.reason == "unknown_archive"
    assert refused.value.location == "notes.zip:a.txt"
