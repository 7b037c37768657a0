"""An archive of exports reads every export in it, names each chat, and reports what it skips."""

import zipfile
from pathlib import Path

import pytest

from chatlens.embedding_worker.errors import NotAChatExport
from chatlens.embedding_worker.parsing import parse_any

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_well_known_export_in_an_archive_is_read(tmp_path):
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "telegram" / "result.json", "telegram/result.json")
        zf.write(FIXTURES / "chatgpt" / "conversations.json", "chatgpt/conversations.json")
        zf.write(FIXTURES / "WhatsApp Chat with Ops.txt", "ops/_chat.txt")
    alone = {
        name: sum(1 for _ in parse_any(path).messages)
        for name, path in (
            ("telegram", FIXTURES / "telegram" / "result.json"),
            ("chatgpt", FIXTURES / "chatgpt" / "conversations.json"),
            ("whatsapp", FIXTURES / "WhatsApp Chat with Ops.txt"),
        )
    }

    result = parse_any(archive)
    messages = list(result.messages)

    assert result.format == "mixed"
    assert {m.platform for m in messages} == {"telegram", "chatgpt", "whatsapp"}
    assert len(messages) == sum(alone.values())
    parts = result.diagnostics.as_stats()["parts"]
    assert sorted(p["format"] for p in parts) == ["chatgpt", "telegram", "whatsapp"]


def test_loose_exports_beside_one_well_known_export_are_read_too(tmp_path, make_zip):
    archive = make_zip(
        tmp_path / "exports.zip",
        {
            "result.json": FIXTURES / "telegram" / "result.json",
            "WhatsApp Chat with Ops.txt": FIXTURES / "WhatsApp Chat with Ops.txt",
            "discord/general.json": FIXTURES
            / "discord"
            / "Makers - general [1020304050607080].json",
            "notes/todo.txt": b"buy milk\n",
            "photos/cat.jpg": b"\xff\xd8\xff",
        },
    )
    telegram = sum(1 for _ in parse_any(FIXTURES / "telegram" / "result.json").messages)

    result = parse_any(archive)
    messages = list(result.messages)

    assert {m.platform for m in messages} == {"telegram", "whatsapp", "discord"}
    assert sum(m.platform == "telegram" for m in messages) == telegram
    stats = result.diagnostics.as_stats()
    assert [p["path"] for p in stats["parts"]] == [
        "result.json",
        "WhatsApp Chat with Ops.txt",
        "discord/general.json",
    ]
    # The note is no export: reported with its entry path and why; media are not exports.
    [skipped] = stats["skipped_examples"]
    assert skipped["path"] == "exports.zip:notes/todo.txt"
    assert "WhatsApp" in skipped["reason"]
    assert stats["skipped_lines"] == 1


def test_an_export_zip_reports_the_companion_files_it_skips(tmp_path, make_zip):
    archive = make_zip(
        tmp_path / "chatgpt-export.zip",
        {
            "conversations.json": FIXTURES / "chatgpt" / "conversations.json",
            "user.json": b'{"id": "user-1", "email": "ana@example.com"}',
            "chat.html": b"<html></html>",
        },
    )

    result = parse_any(archive)

    assert result.format == "chatgpt"
    assert len(list(result.messages)) == 8
    [skipped] = result.diagnostics.as_stats()["skipped_examples"]
    assert skipped["path"] == "chatgpt-export.zip:user.json"
    assert "not an export" in skipped["reason"]


def test_each_chat_of_a_multi_chat_whatsapp_zip_is_named_by_its_folder(tmp_path, make_zip):
    archive = make_zip(
        tmp_path / "WhatsApp Chat with Ops.zip",
        {
            "Ops/_chat.txt": FIXTURES / "WhatsApp Chat with Ops.txt",
            "chats/WhatsApp Chat - Hiking/_chat.txt": FIXTURES / "WhatsApp Chat - Hiking.txt",
            "chats/WhatsApp Chat - Hiking/IMG-0001.jpg": b"\xff\xd8\xff",
            "Flat 3.B/_chat.txt": FIXTURES / "WhatsApp Chat - Flat 3B.txt",
        },
    )

    messages = list(parse_any(archive).messages)

    by_chat = {m.chat: m.source_path for m in messages}
    assert by_chat == {
        "Ops": "Ops/_chat.txt",
        "Hiking": "chats/WhatsApp Chat - Hiking/_chat.txt",
        "Flat 3.B": "Flat 3.B/_chat.txt",
    }
    # Named as when uploaded alone, a chat keeps its ids.
    alone = {m.message_id for m in parse_any(FIXTURES / "WhatsApp Chat with Ops.txt").messages}
    assert alone == {m.message_id for m in messages if m.chat == "Ops"}


def test_a_single_chat_zip_is_still_named_by_the_zip(tmp_path, make_zip):
    archive = make_zip(
        tmp_path / "WhatsApp Chat with Book Club.zip",
        {
            "export/_chat.txt": FIXTURES / "WhatsApp Chat with Book Club.txt",
            "export/IMG-0001.jpg": b"\xff\xd8\xff",
        },
    )

    assert {m.chat for m in parse_any(archive).messages} == {"Book Club"}


def test_a_bomb_beside_an_export_refuses_the_archive_instead_of_being_skipped(tmp_path, make_zip):
    archive = make_zip(
        tmp_path / "exports.zip",
        {
            "result.json": FIXTURES / "telegram" / "result.json",
            # A chat's first line, then text that deflates about 1000x.
            "notes.txt": b"31/12/2023, 21:15 - Ana: hi\n" + b"ha" * (4 * 1024 * 1024),
        },
    )

    with pytest.raises(NotAChatExport) as refused:
        parse_any(archive)
    assert refused.value.reason == "archive_ratio"
    assert refused.value.location == "notes.txt"


def test_loose_files_are_judged_in_one_pass_over_the_archive(tmp_path, make_zip, monkeypatch):
    from chatlens.embedding_worker.parsing import source

    archive = make_zip(
        tmp_path / "telegram-export.zip",
        {
            "result.json": FIXTURES / "telegram" / "result.json",
            **{f"files/note-{i}.txt": f"note {i}\n".encode() for i in range(50)},
        },
    )
    opened = []
    real = source.SafeZip
    monkeypatch.setattr(source, "SafeZip", lambda *a, **k: opened.append(1) or real(*a, **k))

    result = parse_any(archive)
    list(result.messages)

    # Each open checks every entry again: the 50 notes must not cost 50 opens or more.
    assert len(opened) < 10
    assert result.diagnostics.as_stats()["skipped_lines"] == 50
