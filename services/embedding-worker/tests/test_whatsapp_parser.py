"""The WhatsApp parser reads every layout WhatsApp writes, and refuses what is not an export."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatlens.embedding_worker.errors import NotAChatExport, UnsupportedUpload
from chatlens.embedding_worker.parsing.identity import chat_name

UTC = UTC


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_android_12h_month_first_export_is_read_with_its_system_lines(parse):
    export, messages = parse("WhatsApp Chat with Book Club.txt")

    assert (export.layout.format, export.layout.date_order, export.layout.clock) == (
        "whatsapp-android",
        "month-first",
        "12h",
    )
    assert export.chat == "Book Club"
    assert [m.kind for m in messages] == [
        "system",
        "system",
        "system",
        "text",
        "text",
        "text",
        "media",
        "deleted",
        "text",
        "text",
        "system",
        "system",
    ]
    assert messages[0].sender is None
    assert messages[0].text.startswith("Messages and calls are end-to-end encrypted.")
    assert messages[1].text == 'Dana created group "Book Club"'
    assert messages[2].text == "Dana added Eli"
    assert (messages[3].sender, messages[3].sent_at) == ("Dana", at(2023, 12, 28, 20, 5))
    # A subject with ": " in it is still a system line, not a message from "Dana changed...".
    assert messages[10].sender is None
    assert messages[10].text == 'Dana changed the subject from "Book Club" to "Book Club: season 2"'
    assert messages[11].text == "Eli left"


def test_continuation_lines_belong_to_the_message_above(parse):
    _, messages = parse("WhatsApp Chat with Book Club.txt")

    notes = messages[5]
    assert notes.text == (
        "End of January. Notes so far:\n- chapter 1 is slow\n- stick with it\n"
        "\nseriously, it pays off"
    )
    assert (notes.source_line, notes.seq) == (6, 5)
    assert messages[6].source_line == 11


def test_media_deleted_and_edited_messages_are_told_apart(parse):
    export, messages = parse("WhatsApp Chat with Book Club.txt")

    media, deleted, edited = messages[6], messages[7], messages[8]
    assert (media.kind, media.text, media.embeddable) == ("media", "<Media omitted>", True)
    assert (deleted.kind, deleted.embeddable) == ("deleted", False)
    assert (edited.text, edited.edited) == ("Can't sleep, reading ahead", True)
    stats = export.diagnostics.as_stats()
    assert {k: stats[k] for k in ("messages", "system_events", "media", "deleted", "edited")} == {
        "messages": 12,
        "system_events": 5,
        "media": 1,
        "deleted": 1,
        "edited": 1,
    }


def test_12_am_is_midnight_and_12_pm_is_noon(parse):
    _, messages = parse("WhatsApp Chat with Book Club.txt")

    assert messages[8].sent_at == at(2023, 12, 29, 0, 15)
    assert messages[9].sent_at == at(2023, 12, 29, 12, 40)


def test_android_24h_day_first_export_with_dotted_dates(parse):
    export, messages = parse("WhatsApp Chat with Ops.txt")

    assert (export.layout.format, export.layout.date_order, export.layout.clock) == (
        "whatsapp-android",
        "day-first",
        "24h",
    )
    assert messages[3].sent_at == at(2023, 12, 31, 23, 59)
    assert (messages[3].sender, messages[3].text) == ("Rui", "Done: all green")
    assert messages[5].sent_at == at(2024, 1, 13, 8, 30)
    # An attached file with a caption on the next line is one media message.
    assert (messages[5].kind, messages[5].text) == (
        "media",
        "IMG-20240113-WA0001.jpg (file attached)\ndisk usage graph from this morning",
    )
    assert messages[6].kind == "deleted"


def test_ios_24h_export_with_direction_marks(parse):
    export, messages = parse("WhatsApp Chat - Flat 3B.txt")

    assert (export.layout.format, export.layout.date_order, export.layout.clock) == (
        "whatsapp-ios",
        "day-first",
        "24h",
    )
    assert export.chat == "Flat 3B"
    # iOS files system lines under the chat's own name, marked with U+200E.
    assert [(m.kind, m.sender) for m in messages[:3]] == [("system", None)] * 3
    assert messages[2].text == "Sam added Priya"
    assert messages[3].sent_at == at(2024, 1, 2, 18, 6, 2)
    assert (messages[5].kind, messages[5].sender, messages[5].text) == (
        "media",
        "Priya",
        "image omitted",
    )
    assert messages[7].kind == "deleted"
    assert (messages[8].text, messages[8].edited) == ("Plumber comes Tuesday", True)
    assert not any("\u200e" in m.text or "\u200e" in (m.sender or "") for m in messages)


def test_ios_12h_month_first_export_with_narrow_no_break_spaces(parse):
    export, messages = parse("WhatsApp Chat - Running.txt")

    assert (export.layout.format, export.layout.date_order, export.layout.clock) == (
        "whatsapp-ios",
        "month-first",
        "12h",
    )
    assert [m.sent_at for m in messages] == [
        at(2024, 1, 14, 6, 30, 5),
        at(2024, 1, 14, 6, 31, 40),
        at(2024, 1, 14, 12, 2),
        at(2024, 1, 14, 23, 45, 12),
    ]
    assert messages[3].kind == "media"


def test_dates_that_read_both_ways_default_to_day_first(parse):
    export, messages = parse("ambiguous.txt")

    assert export.layout.date_order == "day-first"
    assert messages[0].sent_at == at(2024, 4, 3, 10, 0)
    assert export.chat == "ambiguous"


def test_the_order_is_decided_by_the_whole_file_not_the_first_line(tmp_path, parse):
    path = tmp_path / "late-evidence.txt"
    path.write_text(
        "01/02/24, 10:00 - Ana: hi\n01/02/24, 11:00 - Ben: hi\n"
        "01/20/24, 09:00 - Ana: the 20th month does not exist\n"
    )

    export, messages = parse(path)

    assert export.layout.date_order == "month-first"
    assert messages[0].sent_at == at(2024, 1, 2, 10, 0)


def test_when_both_readings_are_valid_the_one_running_forward_in_time_wins(tmp_path, parse):
    path = tmp_path / "forward.txt"
    # Day-first reads 1 Feb, 1 Mar, 4 Jan (back in time); month-first 2 Jan, 3 Jan, 1 Apr.
    path.write_text(
        "01/02/24, 10:00 - Ana: a\n01/03/24, 10:00 - Ana: b\n04/01/24, 10:00 - Ana: c\n"
    )

    export, _ = parse(path)

    assert export.layout.date_order == "month-first"


def test_skipped_lines_are_counted_with_line_numbers_and_reasons(parse):
    export, messages = parse("skipped.txt")

    assert [m.text for m in messages] == ["first", "second"]
    stats = export.diagnostics.as_stats()
    assert stats["skipped_lines"] == 2
    assert stats["skipped_examples"] == [
        {"line": 1, "reason": "text before the first message"},
        {"line": 3, "reason": "header with an impossible date or time"},
    ]


def test_local_times_are_converted_with_the_given_zone(parse):
    export, messages = parse("WhatsApp Chat with Ops.txt", timezone="Asia/Kolkata")

    assert messages[1].sent_at == at(2023, 12, 31, 15, 45)
    assert messages[1].tz_assumption == "Asia/Kolkata (given)"
    assert export.diagnostics.as_stats()["tz_assumption"] == "Asia/Kolkata (given)"


def test_without_a_zone_local_times_are_assumed_utc(parse):
    _, messages = parse("WhatsApp Chat with Ops.txt")

    assert messages[1].sent_at == at(2023, 12, 31, 21, 15)
    assert {m.tz_assumption for m in messages} == {"UTC (assumed)"}


def test_a_time_inside_a_daylight_saving_gap_moves_past_the_gap(tmp_path, parse):
    path = tmp_path / "dst.txt"
    # Lisbon skipped from 01:00 to 02:00 on 31 March 2024; 01:30 never happened there.
    path.write_text(
        "31/03/2024, 00:30 - Ana: before\n31/03/2024, 01:30 - Ana: gap\n"
        "31/03/2024, 03:00 - Ana: after\n"
    )

    _, messages = parse(path, timezone="Europe/Lisbon")

    assert [m.sent_at for m in messages] == [
        at(2024, 3, 31, 0, 30),
        at(2024, 3, 31, 1, 30),
        at(2024, 3, 31, 2, 0),
    ]


def test_an_unknown_zone_is_refused(parse):
    with pytest.raises(UnsupportedUpload, match="unknown time zone"):
        parse("WhatsApp Chat with Ops.txt", timezone="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("filename", "chat"),
    [
        ("WhatsApp Chat with Team Lisbon.txt", "Team Lisbon"),
        ("WhatsApp Chat - Flat 3B.txt", "Flat 3B"),
        ("WhatsApp Chat with Team Lisbon (2).txt", "Team Lisbon"),
        ("uploads/x/family.txt", "family"),
        ("_chat.txt", "_chat"),
    ],
)
def test_the_chat_is_named_after_the_export_file(filename, chat):
    assert chat_name(filename) == chat


def test_the_same_message_in_overlapping_exports_gets_the_same_id(parse):
    _, first = parse("WhatsApp Chat with Standup.txt")
    _, second = parse("WhatsApp Chat with Standup (1).txt")

    # Both name the chat "Standup"; the overlap (two "ok"s and "Standup at 10") sits at
    # different lines of the two files.
    assert [m.message_id for m in first[1:]] == [m.message_id for m in second[:3]]
    assert first[1].source_line != second[0].source_line
    assert first[0].message_id not in {m.message_id for m in second}
    # Two identical messages in one minute stay two messages.
    assert first[1].message_id != first[2].message_id


def test_parsing_is_deterministic(parse):
    _, once = parse("WhatsApp Chat - Flat 3B.txt")
    _, again = parse("WhatsApp Chat - Flat 3B.txt")

    assert once == again
    assert [m.seq for m in once] == list(range(len(once)))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("12/03/24, 10:00 - Ana: ol\u00e1 Jo\u00e3o\n".encode("latin-1"), "not UTF-8"),
        ("12/03/24, 10:00 - Ana: ol\u00e1".encode("latin-1"), "not UTF-8"),
    ],
)
def test_empty_binary_and_non_utf8_files_are_not_chat_exports(tmp_path, parse, content, reason):
    path = tmp_path / "upload.txt"
    path.write_bytes(content)

    with pytest.raises(NotAChatExport, match=reason):
        parse(path)


def test_a_text_file_without_whatsapp_lines_is_not_a_chat_export(parse):
    with pytest.raises(NotAChatExport, match="no line looks like a WhatsApp message"):
        parse("not-a-chat.txt")


def test_a_missing_file_raises_file_not_found(tmp_path, parse):
    with pytest.raises(FileNotFoundError):
        parse(tmp_path / "gone.txt")
