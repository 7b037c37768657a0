"""``chatlens parse``: the messages as JSON lines on stdout, the diagnostics on stderr."""

import json
import zipfile
from datetime import timedelta

from chatlens.cli.__main__ import main
from chatlens.shared.schemas import ChatMessage

from .conftest import REPO

SAMPLE = REPO / "samples" / "whatsapp-demo.txt"


def parse(capsys, *argv) -> tuple[int, list[ChatMessage], str]:
    code = main(["parse", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, [ChatMessage.model_validate_json(line) for line in out.splitlines()], err


def test_the_sample_is_printed_as_normalised_messages_with_a_summary(capsys):
    code, messages, err = parse(capsys, SAMPLE)
    assert code == 0
    assert len(messages) == 207
    assert messages[0].kind == "system" and messages[0].sender is None
    texts = [m for m in messages if m.kind == "text"]
    assert texts[0].sender == "Marta" and texts[0].text.startswith("Morning all!")
    assert [m.seq for m in messages] == sorted(m.seq for m in messages)
    assert "format: whatsapp (android)" in err
    assert "messages: 207, system events: 5" in err
    stats = json.loads(err.splitlines()[-1])["diagnostics"]
    assert stats["messages"] == 207 and stats["skipped_lines"] == 0


def test_the_timezone_option_moves_every_timestamp(capsys):
    _, utc, _ = parse(capsys, SAMPLE)
    _, tokyo, err = parse(capsys, SAMPLE, "--timezone", "Asia/Tokyo")
    assert all(a.sent_at - b.sent_at == timedelta(hours=9) for a, b in zip(utc, tokyo, strict=True))
    assert {m.tz_assumption for m in tokyo} == {"Asia/Tokyo (given)"}
    assert "time zone: Asia/Tokyo (given)" in err


def test_lines_that_cannot_be_parsed_are_listed_with_their_numbers(capsys, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("exported by a tool that adds a banner\n12/03/2024, 09:15 - Marta: hi\n")
    code, messages, err = parse(capsys, path)
    assert code == 0 and [m.text for m in messages] == ["hi"]
    assert "could not parse: 1" in err
    assert "line 1: " in err


def test_an_export_inside_a_zip_is_parsed_the_same(capsys, tmp_path):
    archive = tmp_path / "WhatsApp Chat - Team.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SAMPLE, "_chat.txt")
    code, messages, _ = parse(capsys, archive)
    assert code == 0
    assert len(messages) == 207


def test_a_file_that_is_no_chat_export_fails_with_a_code(capsys, tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    code, messages, err = parse(capsys, path)
    assert code == 1 and messages == []
    assert err.startswith("error: photo.txt: parse_failed:")


def test_a_forced_format_that_does_not_fit_is_an_error(capsys):
    code, messages, err = parse(capsys, SAMPLE, "--format", "telegram")
    assert code == 1 and messages == []
    assert "error: whatsapp-demo.txt:" in err


def test_the_format_names_agree_across_the_cli_the_gateway_and_the_parsers():
    # Three lists, because services never import each other; this client-side test can see all.
    from chatlens.cli.api import FORMATS as CLI_FORMATS
    from chatlens.embedding_worker.parsing import FORMATS as PARSER_FORMATS
    from chatlens.gateway.sniff import FORMATS as GATEWAY_FORMATS

    assert CLI_FORMATS == ("auto", *PARSER_FORMATS)
    assert set(GATEWAY_FORMATS) == set(PARSER_FORMATS)


def test_several_files_are_read_in_turn_and_each_message_printed_once(capsys, tmp_path):
    """Two parts of one export that overlap: the second part's repeated messages are left out,
    as an upload of both to one collection would leave them out (issue 12)."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    # The chat's name comes from the file's name, as WhatsApp names its exports.
    (tmp_path / "one").mkdir()
    whole_file = tmp_path / "one" / "WhatsApp Chat with Team.txt"
    whole_file.write_text("".join(lines), encoding="utf-8")
    first = tmp_path / "WhatsApp Chat with Team.txt"
    second = tmp_path / "WhatsApp Chat with Team (1).txt"
    first.write_text("".join(lines[:150]), encoding="utf-8")
    second.write_text("".join(lines[100:]), encoding="utf-8")
    _, whole, _ = parse(capsys, whole_file)
    code, messages, err = parse(capsys, first, second)
    assert code == 0
    assert [m.message_id for m in messages] == [m.message_id for m in whole]
    assert len({m.message_id for m in messages}) == len(messages) == 207
    reports = [
        json.loads(line)["diagnostics"]
        for line in err.splitlines()
        if line.startswith('{"diagnostics"')
    ]
    assert [r["file"] for r in reports] == [first.name, second.name]
    assert reports[0]["duplicates"] == 0
    assert reports[1]["duplicates"] == reports[0]["messages"] + reports[1]["messages"] - 207 > 0
    assert "total: 207 messages from 2 of 2 files" in err


def test_a_file_that_is_no_export_fails_but_the_others_are_read(capsys, tmp_path):
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 not a chat")
    code, messages, err = parse(capsys, junk, SAMPLE)
    assert code == 1 and len(messages) == 207
    assert "error: notes.bin" in err and "from 1 of 2 files" in err
