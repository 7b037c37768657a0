"""Overlapping exports of one chat give a message the same id: re-imports add nothing twice."""

from __future__ import annotations

from chatlens.embedding_worker.parsing import parse_any


def ids(path, **options) -> dict[str, str]:
    """message_id by (native id or text) for every message of an export."""
    return {m.native_id or m.text: m.message_id for m in parse_any(path, **options).messages}


def test_a_telegram_chat_export_and_an_account_export_overlap_by_id(fixtures_dir):
    chat = ids(fixtures_dir / "telegram/result.json")
    account = ids(fixtures_dir / "telegram/account.json")

    shared = chat.keys() & account.keys()
    assert shared == {"108", "109"}
    assert all(chat[k] == account[k] for k in ("108", "109"))
    # Ids are per chat: message 7 of Saved Messages is no message 7 of another chat.
    assert len(set(account.values())) == len(account)


def test_discord_parts_with_overlapping_ranges_share_ids(fixtures_dir):
    first = ids(fixtures_dir / "discord/Makers - general [1020304050607080].json")
    second = ids(fixtures_dir / "discord/Makers - general [1020304050607080] [part 2].json")

    # The same message, written once in local time and once in UTC, is one message.
    assert first["1235000000000000003"] == second["1235000000000000003"]
    union = set(first.values()) | set(second.values())
    assert len(union) == 5


def test_two_whatsapp_exports_of_one_chat_share_the_ids_of_their_common_part(fixtures_dir):
    older = list(parse_any(fixtures_dir / "WhatsApp Chat with Standup.txt").messages)
    newer = list(parse_any(fixtures_dir / "WhatsApp Chat with Standup (1).txt").messages)

    common = {m.message_id for m in older} & {m.message_id for m in newer}
    assert len(common) >= 3
    assert {m.chat for m in older + newer} == {"Standup"}


def test_csv_rows_with_ids_keep_them_when_exported_again_in_another_order(tmp_path):
    header = "timestamp,sender,text,chat,id\n"
    rows = ["2024-01-01T10:00:00Z,Ana,hi,c,1\n", "2024-01-01T10:01:00Z,Ben,yo,c,2\n"]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(header + "".join(rows))
    second.write_text(header + "".join(reversed(rows)) + "2024-01-01T10:02:00Z,Ana,new,c,3\n")

    a, b = ids(first), ids(second)

    assert a["1"] == b["1"] and a["2"] == b["2"] and len(set(b.values())) == 3


def test_the_same_ids_come_back_on_every_parse(fixtures_dir, slack_zip):
    for path in (
        fixtures_dir / "telegram/account.json",
        fixtures_dir / "chatgpt/conversations.json",
        slack_zip,
        fixtures_dir / "generic/messages.jsonl",
    ):
        assert ids(path) == ids(path)


def test_content_ids_remember_a_bounded_window_of_messages(monkeypatch):
    from datetime import UTC, datetime

    from chatlens.embedding_worker.parsing.identity import MessageIdentity

    monkeypatch.setattr(MessageIdentity, "WINDOW", 3)
    identity = MessageIdentity("whatsapp", "Ops")
    at = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)

    first, second = identity.next_id(at, "Ana", "ok"), identity.next_id(at, "Ana", "ok")
    others = [identity.next_id(at, "Ben", str(i)) for i in range(10)]

    assert first != second  # two "ok"s in one minute stay two messages
    assert len(set(others)) == 10
    assert len(identity._seen) == 3  # memory stays flat however long the file
