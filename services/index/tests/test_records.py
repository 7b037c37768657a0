"""A loaded segment's records: parsed from the memory-mapped file line by line, when read."""

from __future__ import annotations

import pytest

from chatlens.index.storage.records import Records
from chatlens.shared.schemas import ChatMessage

from .conftest import make_message


def write(path, messages, tail: bytes = b"") -> None:
    path.write_bytes(b"".join(m.model_dump_json().encode() + b"\n" for m in messages) + tail)


def test_records_read_each_line_as_the_message_it_was(tmp_path):
    messages = [make_message(f"m{n}", n, text=f"héllo {n} 👋") for n in range(5)]
    write(tmp_path / "messages.jsonl", messages)
    records = Records(tmp_path / "messages.jsonl")
    assert len(records) == 5
    assert records[3] == messages[3] and records[-1] == messages[4]
    assert list(records) == messages and records[1:3] == messages[1:3]
    assert isinstance(records[0], ChatMessage)
    with pytest.raises(IndexError):
        records[5]


def test_blank_lines_are_skipped_and_a_last_line_needs_no_newline(tmp_path):
    messages = [make_message(f"m{n}", n) for n in range(3)]
    path = tmp_path / "messages.jsonl"
    write(path, messages[:2], tail=b"\n" + messages[2].model_dump_json().encode())
    assert list(Records(path)) == messages
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert len(Records(tmp_path / "empty.jsonl")) == 0
