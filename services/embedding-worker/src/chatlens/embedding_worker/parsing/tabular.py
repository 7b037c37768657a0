"""Generic CSV and JSON Lines exports: one message per row or line, columns found by name.

The column mapping (documented in the service README): each field is the first column whose
header (case-folded, spaces and dashes as underscores) is the field's own name or one of its
aliases, so renaming a header to the field's name overrides any guess.

=========== ==================================================================
field       headers, in order of preference
=========== ==================================================================
timestamp   timestamp, sent_at, datetime, date, time, created_at, ts
sender      sender, author, from, user, username, name
text        text, message, content, body
chat        chat, channel, conversation, room, group
id          id, message_id, msg_id, uuid
reply_to    reply_to, in_reply_to, parent_id
=========== ==================================================================

``timestamp`` and ``text`` are required. Timestamps are parsed with python-dateutil (ISO 8601,
RFC 2822, unix seconds, common written forms); one without an offset is read in the upload's time
zone. Rows with an ``id`` get native ids; the others ids derived from their content.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from chatlens.embedding_worker.errors import NotAChatExport
from chatlens.embedding_worker.parsing.common import clean, native_message_id, parse_time
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.identity import MessageIdentity
from chatlens.embedding_worker.parsing.source import Source
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.schemas import ChatMessage

ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "sent_at", "datetime", "date", "time", "created_at", "ts"),
    "sender": ("sender", "author", "from", "user", "username", "name"),
    "text": ("text", "message", "content", "body"),
    "chat": ("chat", "channel", "conversation", "room", "group"),
    "id": ("id", "message_id", "msg_id", "uuid"),
    "reply_to": ("reply_to", "in_reply_to", "parent_id"),
}
REQUIRED = ("timestamp", "text")
MAX_FIELD = 1024 * 1024


def _norm(header: str) -> str:
    return header.strip().casefold().replace(" ", "_").replace("-", "_").lstrip("\ufeff")


def mapping_for(headers: list[str]) -> dict[str, str]:
    """Field name to the header holding it; :class:`NotAChatExport` if a required one is missing."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)
    found = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_norm and by_norm[alias] not in found.values():
                found[field] = by_norm[alias]
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise NotAChatExport(
            f"no {' or '.join(missing)} column among {headers[:12]}; name them as in the "
            "column mapping (timestamp, sender, text, chat, id)",
            reason="no_column_mapping",
            location="line 1",
        )
    return found


class TabularExport:
    """CSV (``format="csv"``) or JSON Lines (``format="jsonl"``)."""

    def __init__(
        self,
        source: Source,
        *,
        format: str,
        source_file: str,
        clock: Clock,
        chat_fallback: str,
        dayfirst: bool = False,
    ) -> None:
        self.source, self.format, self.source_file = source, format, source_file
        self.clock, self.chat_fallback, self.dayfirst = clock, chat_fallback, dayfirst
        self.total = None
        self.diagnostics = Diagnostics(format, clock.assumption)
        for _line_no, _row in self._rows():  # the header or first record decides the mapping
            break

    def _text(self) -> Iterator[io.TextIOWrapper]:
        with self.source.open() as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")

    def _rows(self) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """``(line, row)``; row is None for a line that is no record (reported, then skipped)."""
        for text in self._text():
            try:
                yield from (
                    self._csv_rows(text) if self.format == "csv" else self._jsonl_rows(text)
                )
            except UnicodeDecodeError as exc:
                raise NotAChatExport(
                    "the file is not UTF-8 text",
                    reason="invalid_utf8",
                    location=f"byte {exc.start} of a block",
                ) from None

    def _csv_rows(self, text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | None]]:
        csv.field_size_limit(MAX_FIELD)
        reader = csv.reader(text)
        try:
            headers = next(reader)
        except StopIteration:
            raise NotAChatExport("the CSV file is empty", reason="empty") from None
        except csv.Error as exc:
            raise NotAChatExport(
                f"the CSV header cannot be read: {exc}", reason="invalid_csv", location="line 1"
            ) from None
        self.columns = mapping_for(headers)
        while True:
            start = reader.line_num + 1  # a quoted field may span lines: report the first
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.diagnostics.skip(reader.line_num, f"unreadable CSV: {exc}")
                continue
            if not any(v.strip() for v in values):
                continue
            yield start, dict(zip(headers, values, strict=False))

    def _jsonl_rows(self, text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | None]]:
        self.columns: dict[str, str] | None = None
        self._mappings: dict[tuple[str, ...], dict[str, str]] = {}
        for line_no, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:
                if self.columns is None:
                    raise NotAChatExport(
                        f"not a JSON object: {exc}",
                        reason="invalid_json",
                        location=f"line {line_no}",
                    ) from None
                self.diagnostics.skip(line_no, "not a JSON object")
                continue
            if not isinstance(record, dict):
                self.diagnostics.skip(line_no, "not a JSON object")
                continue
            # Records may differ in their keys (an optional reply_to): map each key set once.
            keys = tuple(record)
            if keys not in self._mappings:
                try:
                    self._mappings[keys] = mapping_for(list(keys))
                except NotAChatExport:
                    if self.columns is None:
                        raise
                    self.diagnostics.skip(line_no, "no timestamp or text field")
                    continue
            self.columns = self._mappings[keys]
            yield line_no, record

    def messages(self) -> Iterator[ChatMessage]:
        identities: dict[str, MessageIdentity] = {}
        seq = 0
        for line_no, row in self._rows():
            assert row is not None
            message = self.diagnostics.attempt(
                line_no, self._message, row, line_no, seq, identities
            )
            if message is not None:
                seq += 1
                yield self.diagnostics.count(message)

    def _message(
        self, row: dict[str, Any], line_no: int, seq: int, identities: dict[str, MessageIdentity]
    ) -> ChatMessage | None:
        def get(field: str) -> Any:
            column = self.columns.get(field) if self.columns else None
            value = row.get(column) if column else None
            return value if value not in ("", None) else None

        original = get("timestamp")
        if original is None:
            self.diagnostics.skip(line_no, "no timestamp")
            return None
        try:
            sent_at, had_offset = parse_time(clean(original), self.clock, dayfirst=self.dayfirst)
        except (ValueError, OverflowError) as exc:
            self.diagnostics.skip(line_no, str(exc))
            return None
        value = get("text")
        text = "" if isinstance(value, (dict, list)) else clean(value).replace("\r\n", "\n")
        sender = clean(get("sender")) or None
        chat = clean(get("chat")) or self.chat_fallback
        native = get("id")
        if native is not None and not isinstance(native, (dict, list)):
            message_id = native_message_id(self.format, chat, clean(native))
        else:
            identity = identities.setdefault(chat, MessageIdentity(self.format, chat))
            message_id, native = identity.next_id(sent_at, sender, text), None
        reply = get("reply_to")
        return ChatMessage(
            message_id=message_id,
            native_id=clean(native) if native is not None else None,
            platform=self.format,
            chat=chat,
            sender=sender,
            sent_at=sent_at,
            original_timestamp=clean(original),
            tz_assumption="offset in the file" if had_offset else self.clock.assumption,
            text=text,
            seq=seq,
            source_file=self.source_file,
            source_line=line_no,
            reply_to=native_message_id(self.format, chat, clean(reply)) if reply else None,
        )
