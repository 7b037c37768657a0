"""WhatsApp's text export (Android and iOS layouts) to normalised ``ChatMessage`` records.

The file is streamed twice and never held whole: :func:`scan` reads every header once to tell the
layout, the clock and the date order (which no single line reveals) and to count the messages;
:meth:`WhatsAppExport.messages` then reads it again and yields the messages one by one, joining
continuation lines to the message they belong to. Everything is derived from the file alone, so
the same file always gives the same messages, ids and order.
"""

from __future__ import annotations

import codecs
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from chatlens.embedding_worker.errors import NotAChatExport, UnsupportedUpload
from chatlens.embedding_worker.parsing import lines, timestamps
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.identity import MessageIdentity, chat_name
from chatlens.embedding_worker.parsing.source import Source
from chatlens.shared.schemas import Attachment, ChatMessage

log = logging.getLogger(__name__)

PLATFORM = "whatsapp"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Layout:
    """What the first pass learnt about a file."""

    format: str  # "whatsapp-android" or "whatsapp-ios"
    date_order: timestamps.DateOrder
    clock: str  # "12h", "24h" or "mixed"
    messages: int  # headers with a valid date and time under ``date_order``


def _as_source(path: Path | Source) -> Source:
    return path if isinstance(path, Source) else Source(Path(path))


def _sniff(source: Source) -> None:
    """Refuse empty, binary and non-UTF-8 files before reading them as lines."""
    with source.open() as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise NotAChatExport("the file is empty", reason="empty")
    if b"\x00" in head:
        nul = head.index(b"\x00")
        raise NotAChatExport(
            "the file is binary, not a WhatsApp text export",
            reason="binary",
            location=f"byte {nul}",
        )
    try:
        # Unless the whole file fits, the block may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise NotAChatExport(
            "the file is not UTF-8 text", reason="invalid_utf8", location=f"byte {exc.start}"
        ) from None


def _read_lines(source: Source) -> Iterator[tuple[int, str]]:
    # utf-8-sig drops a BOM; a stray bad byte past the sniffed block must not lose the file.
    with source.open() as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)
        for line_no, line in enumerate(handle, start=1):
            yield line_no, line.rstrip("\r\n")


def _clock_of(match) -> tuple[int, int, int] | None:
    return timestamps.read_time(match["hour"], match["minute"], match["second"], match["ampm"])


def scan(path: Path | Source) -> Layout:
    """First pass: the layout of an export. Raises :class:`NotAChatExport`."""
    path = _as_source(path)
    _sniff(path)
    vote = timestamps.DateOrderVote()
    ios = android = twelve = twenty_four = 0
    for _, raw in _read_lines(path):
        match = lines.HEADER.match(lines.normalise(lines.strip_marks(raw)))
        if match is None or _clock_of(match) is None:
            continue
        vote.add(match["d1"], match["d2"], match["d3"])
        ios, android = ios + bool(match["open"]), android + (not match["open"])
        twelve, twenty_four = twelve + bool(match["ampm"]), twenty_four + (not match["ampm"])
    order = vote.decide()
    count = vote.year_first if order == "year-first" else vote.valid[order]
    if count == 0:
        raise NotAChatExport(
            'no line looks like a WhatsApp message ("31/12/2023, 21:15 - Name: text" or '
            '"[31/12/2023, 21:15:42] Name: text"); is this a WhatsApp chat export?',
            reason="no_messages",
        )
    clock = "mixed" if twelve and twenty_four else ("12h" if twelve else "24h")
    return Layout("whatsapp-ios" if ios > android else "whatsapp-android", order, clock, count)


@dataclass
class _Pending:
    """A message whose continuation lines may still follow."""

    line_no: int
    local: datetime
    sender: str | None
    is_system: bool
    parts: list[str]
    written: str  # the header's date and time as the file has them


class WhatsAppExport:
    """One WhatsApp export on disk: :attr:`layout` after the first pass, then :meth:`messages`.

    ``source_file`` is the name the user uploaded (it names the chat unless ``chat`` is given);
    ``timezone`` is the IANA zone the phone was in, if the user said.
    """

    format = PLATFORM

    def __init__(
        self,
        path: Path | Source,
        *,
        source_file: str | None = None,
        chat: str | None = None,
        timezone: str | None = None,
    ) -> None:
        self.path = _as_source(path)
        self.source_file = source_file or (self.path.entry or self.path.path.name)
        self.chat = chat or chat_name(self.source_file)
        try:
            self.clock = timestamps.Clock.for_upload(timezone)
        except LookupError as exc:
            raise UnsupportedUpload(str(exc)) from None
        self.layout = scan(self.path)
        self.total = self.layout.messages
        self.diagnostics = Diagnostics(
            PLATFORM,
            self.clock.assumption,
            variant=self.layout.format.removeprefix("whatsapp-"),
            details={
                "chat": self.chat,
                "date_order": self.layout.date_order,
                "clock": self.layout.clock,
            },
        )

    def messages(self) -> Iterator[ChatMessage]:
        """Second pass: the messages in file order; fills :attr:`diagnostics` as it goes."""
        identity = MessageIdentity(PLATFORM, self.chat)
        pending: _Pending | None = None
        seq = 0
        for line_no, raw in _read_lines(self.path):
            marks_free = lines.strip_marks(raw)
            match = lines.HEADER.match(lines.normalise(marks_free))
            local = self._local_time(match) if match else None
            if match and local is None:
                self.diagnostics.skip(line_no, "header with an impossible date or time")
                continue
            if local is None:
                if pending is not None:
                    pending.parts.append(marks_free)
                elif marks_free.strip():
                    self.diagnostics.skip(line_no, "text before the first message")
                continue
            if pending is not None:
                yield self._finish(pending, seq, identity)
                seq += 1
            # Sender and text come from the marks-free line, not the space-normalised one, so a
            # narrow space typed inside a message stays; both have the same positions.
            sender, text, is_system = lines.split_sender(
                marks_free[match.end() :], marked="\u200e" in raw, chat=self.chat
            )
            written = lines.normalise(marks_free[: match.end()]).strip(" []-\u2013")
            pending = _Pending(line_no, local, sender, is_system, [text], written)
        if pending is not None:
            yield self._finish(pending, seq, identity)

    def _local_time(self, match) -> datetime | None:
        day = timestamps.read_date(match["d1"], match["d2"], match["d3"], self.layout.date_order)
        clock = _clock_of(match)
        if day is None or clock is None:
            return None
        return datetime(day.year, day.month, day.day, *clock)

    def _finish(self, pending: _Pending, seq: int, identity: MessageIdentity) -> ChatMessage:
        kind, text, edited = lines.classify("\n".join(pending.parts).strip(), pending.is_system)
        sent_at = self.clock.to_utc(pending.local)
        name = lines.attachment_name(text) if kind == "media" else None
        return self.diagnostics.count(
            ChatMessage(
                message_id=identity.next_id(sent_at, pending.sender, text),
                platform=PLATFORM,
                chat=self.chat,
                sender=pending.sender,
                sent_at=sent_at,
                tz_assumption=self.clock.assumption,
                kind=kind,
                text=text,
                seq=seq,
                source_file=self.source_file,
                source_line=pending.line_no,
                edited=edited,
                source_path=self.path.entry,
                original_timestamp=pending.written,
                deleted=kind == "deleted",
                attachments=[Attachment(name=name)] if name else [],
            )
        )


def parse_file(
    path: Path | str,
    *,
    source_file: str | None = None,
    chat: str | None = None,
    timezone: str | None = None,
) -> Iterator[ChatMessage]:
    """The messages of one export, streamed: both passes in one call."""
    return WhatsAppExport(
        Path(path), source_file=source_file, chat=chat, timezone=timezone
    ).messages()
