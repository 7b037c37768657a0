"""Bad input is a clear refusal with a code, a reason and a place; never a crash or a half parse."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatlens.embedding_worker.errors import IngestFailed, NotAChatExport
from chatlens.embedding_worker.parsing import parse_any
from chatlens.embedding_worker.parsing.jsonstream import TolerantReader

TELEGRAM_HEAD = b'{"name": "X", "type": "personal_chat", "id": 1, "messages": ['
MESSAGE = (
    b'{"id": %d, "type": "message", "date": "2024-01-01T10:00:00", '
    b'"date_unixtime": "1704103200", "from": "A", "text": "hello"}'
)


def refusal(path, **options) -> NotAChatExport:
    """The error parsing ``path`` raises, whether at once or while streaming."""
    with pytest.raises(NotAChatExport) as caught:
        result = parse_any(path, **options)
        list(result.messages)
    assert caught.value.code == "parse_failed"
    return caught.value


def test_truncated_json_fails_before_any_message_with_its_place(tmp_path):
    path = tmp_path / "result.json"
    body = TELEGRAM_HEAD + b",".join(MESSAGE % i for i in range(200))
    path.write_bytes(body[: len(body) - 30])

    error = refusal(path)

    assert error.reason == "truncated_json"
    assert error.location.startswith("$.messages[]") and "near byte" in error.location


def test_json_nested_ten_thousand_deep_is_refused_not_recursed(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(
        TELEGRAM_HEAD + MESSAGE % 1 + b', {"text": ' + b"[" * 10_000 + b"]" * 10_000 + b"}]}"
    )

    error = refusal(path)

    assert error.reason == "too_deep"
    assert "64 levels" in str(error) and error.location.startswith("$.messages[].text")


def test_a_json_file_that_is_only_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 10_000 + b"]" * 10_000)

    assert refusal(path).reason == "too_deep"


def test_invalid_utf8_inside_json_is_refused_with_its_place(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(TELEGRAM_HEAD + MESSAGE % 1 + b',{"id": 2, "text": "caf\xe9"}]}')

    error = refusal(path)

    assert error.reason == "invalid_utf8" and "near byte" in error.location


def test_lone_surrogates_become_replacement_characters_not_a_crash(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(
        TELEGRAM_HEAD + b'{"id": 1, "type": "message", "date_unixtime": "1704103200",'
        b' "from": "A\\udc80", "text": "x \\ud800 y"}]}'
    )

    [message] = parse_any(path).messages

    # Each lone surrogate is the replacement character; the message can be encoded and sent.
    assert (message.text, message.sender) == ("x \ufffd y", "A\ufffd")
    message.model_dump_json().encode("utf-8")


@pytest.mark.parametrize("name", ["WhatsApp Chat with Mum.txt", "notes.txt", "export.json"])
def test_a_binary_file_is_refused_whatever_its_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)

    error = refusal(path)

    assert error.reason == "binary" and error.location == "byte 8"


def test_a_binary_file_forced_as_whatsapp_is_refused_too(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_bytes(b"PK-ish\x00\x01\x02" * 100)

    assert refusal(path, format="whatsapp").reason == "binary"


def test_invalid_utf8_text_is_refused_with_the_byte(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_bytes(b"01/02/24, 10:00 - Ana: ol\xe1\n" * 3)

    error = refusal(path, format="whatsapp")

    assert (error.reason, error.location) == ("invalid_utf8", "byte 25")


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"\n")

    assert refusal(path).reason == "empty"


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ("../../evil/_chat.txt", "archive_path_traversal"),
        ("/etc/_chat.txt", "archive_absolute_path"),
    ],
)
def test_an_archive_with_an_escaping_entry_is_refused_by_code(tmp_path, entry, code):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(entry, "01/02/24, 10:00 - Ana: hi\n")

    error = refusal(path)

    assert error.reason == code and error.location


def test_a_symlink_in_an_archive_is_refused(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("_chat.txt")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")

    assert refusal(path).reason == "archive_symlink"


def test_every_refusal_is_an_ingest_failure_the_handler_reports(tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100 + b"]" * 100)

    with pytest.raises(IngestFailed):
        parse_any(path)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='\\xab01"Ff u', max_size=60), st.integers(min_value=1, max_value=9))
def test_hex_escapes_are_fixed_the_same_however_the_stream_is_cut(text, cut):
    raw = text.encode()

    class Trickle(io.BytesIO):
        def read(self, size=-1):  # hands out at most ``cut`` bytes at a time
            return super().read(min(cut, size) if size and size > 0 else cut)

    whole = TolerantReader(io.BytesIO(raw))
    pieces = TolerantReader(Trickle(raw))

    def drain(reader):
        out = b""
        while chunk := reader.read(4):
            out += chunk
        return out

    assert drain(pieces) == drain(whole)


def test_hex_escapes_are_rewritten_but_escaped_backslashes_are_not():
    reader = TolerantReader(io.BytesIO(rb'"a\xe9 b\\x41 c\\\x41"'))

    assert reader.read(1024) + reader.read(1024) == rb'"a\u00e9 b\\x41 c\\\u0041"'


def test_a_malformed_message_is_skipped_and_reported_the_rest_kept(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(
        TELEGRAM_HEAD + MESSAGE % 1 + b', {"id": 2, "date_unixtime": "1704103200",'
        b' "text": "odd", "reactions": 5}, ' + MESSAGE % 3 + b"]}"
    )

    result = parse_any(path)
    messages = list(result.messages)

    assert [m.native_id for m in messages] == ["1", "3"]
    [example] = result.diagnostics.as_stats()["skipped_examples"]
    assert example["path"] == "$.messages[1]"
    assert example["reason"].startswith("malformed record (TypeError")
