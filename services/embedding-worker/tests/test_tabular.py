"""Generic CSV and JSON Lines: columns found by name, times by dateutil, bad rows reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatlens.embedding_worker.parsing import NotAChatExport, parse_any
from chatlens.embedding_worker.parsing.tabular import mapping_for


def test_csv_rows_become_messages_with_their_line_numbers(fixtures_dir):
    result = parse_any(fixtures_dir / "generic/messages.csv", timezone="Europe/Berlin")
    messages = list(result.messages)

    assert [(m.source_line, m.sender, m.chat) for m in messages] == [
        (2, "Ana", "team"),
        (3, "Ben", "team"),
        (5, "Ana", "random"),
        (7, "Chloe", "team"),
    ]
    # A quoted field over two lines is one message, its CRLF a plain newline.
    assert messages[1].text == 'Works for me.\nBringing the "new" slides'
    stats = result.diagnostics.as_stats()
    assert stats["skipped_examples"] == [{"line": 6, "reason": "not a timestamp: 'yesterday-ish'"}]


def test_csv_times_with_and_without_offsets(fixtures_dir):
    messages = list(
        parse_any(fixtures_dir / "generic/messages.csv", timezone="Europe/Berlin").messages
    )

    assert messages[0].sent_at == datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
    assert messages[0].tz_assumption == "offset in the file"
    assert messages[1].sent_at == datetime(2024, 6, 1, 7, 5, tzinfo=UTC)  # CEST, naive
    assert messages[1].tz_assumption == "Europe/Berlin (given)"
    assert messages[3].sent_at == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)  # unix seconds


def test_an_id_column_gives_native_ids_and_none_gives_content_ids(fixtures_dir):
    messages = list(parse_any(fixtures_dir / "generic/messages.csv").messages)

    assert [m.native_id for m in messages] == ["m-1", "m-2", "m-3", None]
    assert len({m.message_id for m in messages}) == 4


def test_jsonl_records_with_replies_and_repeated_messages(fixtures_dir):
    result = parse_any(fixtures_dir / "generic/messages.jsonl")
    messages = list(result.messages)

    assert [(m.source_line, m.text) for m in messages] == [
        (1, "deploy finished"),
        (2, "thanks"),
        (4, "thanks"),
        (6, "thanks"),
    ]
    assert messages[1].reply_to == messages[0].message_id
    # Two identical messages without ids stay two messages, with different ids.
    assert messages[2].message_id != messages[3].message_id
    assert result.diagnostics.as_stats()["skipped_examples"] == [
        {"line": 3, "reason": "not a JSON object"}
    ]


def test_the_column_mapping_prefers_the_field_name_itself():
    assert mapping_for(["Date", "Timestamp", "Name", "Sender", "Body"]) == {
        "timestamp": "Timestamp",
        "sender": "Sender",
        "text": "Body",
    }


def test_a_table_without_a_text_column_is_refused_at_line_1(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("date,team,score\n2024-01-01,a,3\n")

    with pytest.raises(NotAChatExport) as refused:
        parse_any(path, format="csv")
    assert (refused.value.reason, refused.value.location) == ("no_column_mapping", "line 1")
