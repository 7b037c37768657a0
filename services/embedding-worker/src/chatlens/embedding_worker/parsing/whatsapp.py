"""WhatsApp's text export (Android and iOS layouts) to normalised ``ChatMessage`` records.

The file is streamed twice and never held whole: :func:`scan` reads every header once to tell the
layout, the clock and the date order (which no single line reveals) and to count the messages;
:meth:`WhatsAppExport.messages` then reads it again and yields the messages one by one, joining
continuation lines to the message they belong to. Everything is derived from the file alone, so
the same file always gives the same messages, ids and order.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chatlens.embedding_worker.errors import NotAChatExport, UnsupportedUpload
from chatlens.embedding_worker.parsing import lines, timestamps
from chatlens.embedding_worker.parsing.identity import MessageIdentity, chat_name
from chatlens.shared.schemas import ChatMessage

log = logging.getLogger(__name__)

PLATFORM = "whatsapp"
SNIFF_BYTES = 64 * 1024
MAX_SKIPPED_EXAMPLES = 20


@dataclass(frozen=True)
class Layout:
    """What the first pass learnt about a file."""

    format: str  # "whatsapp-android" or "whatsapp-ios"
    date_order: timestamps.DateOrder
    clock: str  # "12h", "24h" or "mixed"
    messages: int  # headers with a valid date and time under ``date_order``


@dataclass
class Diagnostics:
    """What the second pass found, for the job's stats and for the user to check the parse."""

    format: str
    date_order: str
    clock: str
    tz_assumption: str
    messages: int = 0
    system_events: int = 0
    media: int = 0
    deleted: int = 0
    edited: int = 0
    skipped_lines: int = 0
    skipped_examples: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, line_no: int, reason: str) -> None:
        self.skipped_lines += 1
        if len(self.skipped_examples) < MAX_SKIPPED_EXAMPLES:
            self.skipped_examples.append({"line": line_no, "reason": reason})

    def as_stats(self) -> dict[str, Any]:
        return {
            "format": self.format, "date_order": self.date_order, "clock": self.clock,
            "tz_assumption": self.tz_assumption, "messages": self.messages,
            "system_events": self.system_events, "media": self.media, "deleted": self.deleted,
            "edited": self.edited, "skipped_lines": self.skipped_lines,
            "skipped_examples": list(self.skipped_examples),
        }


def _sniff(path: Path) -> None:
    """Refuse empty, binary and non-UTF-8 files before reading them as lines."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise NotAChatExport("the file is empty")
    if b"\x00" in head:
        raise NotAChatExport("the file is binary, not a WhatsApp text export")
    try:
        # Unless the whole file fits, the block may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise NotAChatExport(f"the file is not UTF-8 text (byte {exc.start})") from None


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    # utf-8-sig drops a BOM; a stray bad byte past the sniffed block must not lose the file.
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            yield line_no, line.rstrip("\r\n")


def _clock_of(match) -> tuple[int, int, int] | None:
    return timestamps.read_time(match["hour"], match["minute"], match["second"], match["ampm"])


def scan(path: Path) -> Layout:
    """First pass: the layout of an export. Raises :class:`NotAChatExport`."""
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
            "no line looks like a WhatsApp message (\"31/12/2023, 21:15 - Name: text\" or "
            "\"[31/12/2023, 21:15:42] Name: text\"); is this a WhatsApp chat export?"
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


class WhatsAppExport:
    """One WhatsApp export on disk: :attr:`layout` after the first pass, then :meth:`messages`.

    ``source_file`` is the name the user uploaded (it names the chat unless ``chat`` is given);
    ``timezone`` is the IANA zone the phone was in, if the user said.
    """

    def __init__(self, path: Path, *, source_file: str | None = None, chat: str | None = None,
                 timezone: str | None = None) -> None:
        self.path = Path(path)
        self.source_file = source_file or self.path.name
        self.chat = chat or chat_name(self.source_file)
        try:
            self.clock = timestamps.Clock.for_upload(timezone)
        except LookupError as exc:
            raise UnsupportedUpload(str(exc)) from None
        self.layout = scan(self.path)
        self.diagnostics = Diagnostics(self.layout.format, self.layout.date_order,
                                       self.layout.clock, self.clock.assumption)

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
            sender, text, is_system = lines.split_sender(marks_free[match.end():],
                                                         marked="\u200e" in raw)
            pending = _Pending(line_no, local, sender, is_system, [text])
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
        counts = self.diagnostics
        counts.messages += 1
        counts.system_events += kind == "system"
        counts.media += kind == "media"
        counts.deleted += kind == "deleted"
        counts.edited += edited
        return ChatMessage(
            message_id=identity.next_id(sent_at, pending.sender, text),
            platform=PLATFORM, chat=self.chat, sender=pending.sender, sent_at=sent_at,
            tz_assumption=self.clock.assumption, kind=kind, text=text, seq=seq,
            source_file=self.source_file, source_line=pending.line_no, edited=edited,
        )


def parse_file(path: Path | str, *, source_file: str | None = None, chat: str | None = None,
               timezone: str | None = None) -> Iterator[ChatMessage]:
    """The messages of one export, streamed: both passes in one call."""
    return WhatsAppExport(Path(path), source_file=source_file, chat=chat,
                          timezone=timezone).messages()
