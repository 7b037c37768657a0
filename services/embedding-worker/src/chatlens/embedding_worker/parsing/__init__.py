"""Chat-export parsers: each turns one uploaded file into normalised ``ChatMessage`` records.

:func:`parse_any` is the one entry point: it detects the format from the content (or takes the
one forced with ``format=``), checks what must be checked before a message is handed out (the
whole JSON, a WhatsApp file's layout), and returns a :class:`ParseResult` whose ``messages``
stream lazily. An archive of several exports (a zip of WhatsApp chats, of Discord channels) is
read export by export, as one result (format "mixed" if they differ). One module per format
(:mod:`.whatsapp`, :mod:`.telegram`, :mod:`.discord`, :mod:`.chatgpt`, :mod:`.slack`,
:mod:`.tabular` for CSV/JSONL); :mod:`.detect` tells them apart, :mod:`.jsonstream` streams
JSON, :mod:`.source` reads files and zip entries alike.

Message ids: the platform's native id where it has one (hashed with platform and chat), else
one derived from the content (:mod:`.identity`), so overlapping exports give the same ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatlens.embedding_worker.errors import NotAChatExport, UnsupportedFormat
from chatlens.embedding_worker.parsing import (
    chatgpt,
    common,
    detect,
    discord,
    identity,
    slack,
    tabular,
    telegram,
    whatsapp,
)
from chatlens.embedding_worker.parsing.diagnostics import MAX_SKIPPED_EXAMPLES, Diagnostics
from chatlens.embedding_worker.parsing.source import Source
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.archives import ArchiveLimits
from chatlens.shared.schemas import EXPORT_FORMATS, ChatMessage

__all__ = [
    "FORMATS",
    "Diagnostics",
    "NotAChatExport",
    "ParseResult",
    "UnsupportedFormat",
    "parse_any",
]

FORMATS: tuple[str, ...] = EXPORT_FORMATS


@dataclass
class ParseResult:
    """One parsed upload. ``diagnostics`` is complete once ``messages`` has been exhausted;
    ``total`` is the number of messages when known before streaming (else None)."""

    format: str
    messages: Iterator[ChatMessage]
    diagnostics: Diagnostics | BundleDiagnostics
    total: int | None = None
    source_label: str | None = None  # the file, or the archive entry, it was read from


def parse_any(
    path: Path,
    *,
    format: str = "auto",
    timezone: str | None = None,
    source_file: str | None = None,
    limits: ArchiveLimits | None = None,
) -> ParseResult:
    """Parse the export at ``path``; ``format`` is one of :data:`FORMATS` or ``"auto"``.

    ``timezone`` (an IANA name) is the zone of times written without an offset; ``source_file``
    the name the user uploaded (it names the chat where the file does not); ``limits`` what a
    zip may cost (the ``ARCHIVE_*`` settings; their defaults if None). Raises
    :class:`NotAChatExport`, :class:`UnsupportedFormat`, ``UnsupportedUpload`` (a bad zone) or
    ``OSError`` (the file cannot be read) before any message is handed out; a problem found
    while streaming (a bad entry deep inside an archive) raises from ``messages``.
    """
    if format != "auto" and format not in FORMATS:
        raise UnsupportedFormat(
            f"the format {format!r} is not supported; supported: {', '.join(FORMATS)} (or auto)"
        )
    path = Path(path)
    clock = common.clock_for(timezone)
    name = source_file or path.name
    found = detect.locate(path, None if format == "auto" else format, limits)
    if len(found) == 1 and not isinstance(found[0][0], NotAChatExport):
        return _open(*found[0], name=name, clock=clock, timezone=timezone)
    # An archive of several exports: each is read in turn; one that is no export is reported.
    parts: list[ParseResult] = []
    refused: list[dict[str, str]] = []
    for entry_format, source in found:
        try:
            if isinstance(entry_format, NotAChatExport):
                raise entry_format
            parts.append(
                _open(entry_format, source, name=name, clock=clock, timezone=timezone, shared=True)
            )
        except NotAChatExport as exc:
            if exc.reason.startswith("archive_"):
                raise  # an unsafe archive (a bomb, a traversal) is refused whole, never skipped
            refused.append({"path": source.label, "reason": str(exc)})
    if not parts:
        raise NotAChatExport(
            f"none of the archive's {len(found)} files is a chat export: {refused[0]['reason']}",
            reason="unknown_archive",
            location=refused[0]["path"],
        )
    formats = {part.format for part in parts}
    totals = [part.total for part in parts]
    return ParseResult(
        format=formats.pop() if len(formats) == 1 else "mixed",
        messages=_renumbered(parts),
        diagnostics=BundleDiagnostics(parts, refused),
        total=None if None in totals else sum(totals),
    )  # type: ignore[arg-type]


def _open(
    format: str | None,
    source: Source,
    *,
    name: str,
    clock: Clock,
    timezone: str | None,
    shared: bool = False,
) -> ParseResult:
    """One export: its parser built (first pass done), its messages not yet read. ``shared``:
    the upload holds several exports, so its name cannot name this one's chat."""
    format = format or detect.sniff(source, source.entry or name)
    chat_fallback = _chat_fallback(source, name, shared=shared)
    options = dict(source_file=name, clock=clock, chat_fallback=chat_fallback)
    if format == "whatsapp":
        export = whatsapp.WhatsAppExport(
            source, source_file=name, chat=chat_fallback, timezone=timezone
        )
    elif format in ("csv", "jsonl"):
        export = tabular.TabularExport(source, format=format, **options)
    else:
        parser = {
            "telegram": telegram.TelegramExport,
            "discord": discord.DiscordExport,
            "chatgpt": chatgpt.ChatGPTExport,
            "slack": slack.SlackExport,
        }[format]
        export = parser(source, **options)
    return ParseResult(
        format=format,
        messages=export.messages(),
        diagnostics=export.diagnostics,
        total=export.total,
        source_label=source.entry or name,
    )


def _chat_fallback(source: Source, upload: str, *, shared: bool) -> str:
    """The name of a chat its export does not name: from the file's own name ("WhatsApp Chat
    with X.txt"); for a ``_chat.txt`` from the upload's ("WhatsApp Chat with X.zip"), unless the
    upload holds several exports: then from the folder the entry sits in ("X/_chat.txt")."""
    if source.entry is None:
        return identity.chat_name(upload)
    folder, _, base = source.entry.rpartition("/")
    if base != "_chat.txt":
        return identity.chat_name(base)
    if shared and folder:
        return identity.chat_name(folder.rsplit("/", 1)[-1], folder=True)
    return identity.chat_name(upload)


def _renumbered(parts: list[ParseResult]) -> Iterator[ChatMessage]:
    """The parts' messages one after the other, ``seq`` counting on across them."""
    seq = 0
    for part in parts:
        for message in part.messages:
            yield message.model_copy(update={"seq": seq})
            seq += 1


class BundleDiagnostics:
    """The diagnostics of an archive of exports: the parts' counts summed, plus each part."""

    def __init__(self, parts: list[ParseResult], refused: list[dict[str, str]]) -> None:
        self.parts, self.refused = parts, refused

    def as_stats(self) -> dict[str, Any]:
        stats = [part.diagnostics.as_stats() for part in self.parts]
        summed = {
            key: sum(s[key] for s in stats)
            for key in (
                "messages",
                "system_events",
                "media",
                "deleted",
                "edited",
                "chats",
                "skipped_lines",
            )
        }
        examples = [*self.refused, *(e for s in stats for e in s["skipped_examples"])]
        formats = {s["format"] for s in stats}
        return {
            "format": formats.pop() if len(formats) == 1 else "mixed",
            "variant": "archive",
            "tz_assumption": stats[0]["tz_assumption"],
            **summed,
            "skipped_lines": summed["skipped_lines"] + len(self.refused),
            "skipped_examples": examples[:MAX_SKIPPED_EXAMPLES],
            "parts": [
                {"path": part.source_label, "format": s["format"], "messages": s["messages"]}
                for part, s in zip(self.parts, stats, strict=True)
            ],
        }
