"""Does an upload look like a chat export? Its name, its first bytes, and for a zip its entries.

The gateway is a gate, not a parser: it refuses at once what is plainly not a chat export (a PDF,
a binary file named ``.txt``, a zip bomb) so that nothing is stored and no job is created; the
embedding worker's parsers decide the exact format and read every line. ``FORMATS`` is the one list
of export formats, ``chatlens.shared.schemas.EXPORT_FORMATS``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import BinaryIO

from chatlens.shared import archives, schemas
from chatlens.shared.web import ApiError

FORMATS = schemas.EXPORT_FORMATS
# Which formats a file of each type can hold. A zip may hold any (several exports at once).
SUFFIXES: dict[str, tuple[str, ...]] = {
    ".txt": ("whatsapp",),
    ".json": ("telegram", "discord", "chatgpt"),
    ".csv": ("csv",),
    ".jsonl": ("jsonl",),
    ".ndjson": ("jsonl",),
    ".zip": FORMATS,
}
SNIFF_BYTES = 64 * 1024
# A WhatsApp line starts with a date and a time: "31/12/2023, 21:15 - ", "[31.12.23, 21:15:42] ",
# "2023-12-31 21:15", "31.12.2023 klo 21.15", "31/12/2023 à 21:15".
_WHATSAPP_LINE = re.compile(
    r"^[\u200e\u200f\ufeff]?\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?,?\s+(?:\w{1,4}\s+)?\d{1,2}[:.]\d{2}",
    re.MULTILINE,
)
_JSON_KEY = re.compile(r'"([A-Za-z_]{2,40})"\s*:')
# Keys that only these exports have near their start (the head of a big file is all we read).
_JSON_MARKERS = {
    "telegram": [{"messages", "type"}, {"chats"}, {"personal_information"}],
    "discord": [{"guild", "channel"}],
    "chatgpt": [{"mapping"}, {"current_node"}],
}
# Archive refusals that are about size; the others are about an unsafe or broken archive.
_TOO_LARGE = {"archive_too_large", "archive_ratio", "archive_too_many_entries"}


def sniff(
    filename: str,
    source: BinaryIO | Path,
    size: int,
    requested: str,
    limits: archives.ArchiveLimits,
) -> str:
    """Refuse what cannot be a chat export (:class:`ApiError`); the format to ask the worker for:
    the requested one, or ``auto`` for the worker to detect. ``source`` is the upload, open for
    reading (or a path); messages name it by the client's ``filename`` only."""
    if isinstance(source, Path):
        with open(source, "rb") as fp:
            return sniff(filename, fp, size, requested, limits)
    if size == 0:
        raise ApiError(400, "empty_file", f"{filename}: the file is empty")
    suffix = Path(filename).suffix.lower()
    possible = SUFFIXES.get(suffix, ())
    if requested != "auto" and requested not in possible:
        kinds = ", ".join(s for s, formats in SUFFIXES.items() if requested in formats)
        raise ApiError(
            415,
            "unsupported_type",
            f"{filename}: a {requested} export is a {kinds} file, not "
            f"{suffix or 'a file without extension'}",
        )
    if not possible:
        raise ApiError(
            415,
            "unsupported_type",
            f"{filename}: {suffix or 'no extension'} is not a supported export type "
            f"(supported: {', '.join(SUFFIXES)})",
        )
    if suffix == ".zip":
        _check_archive(filename, source, limits)
    else:
        _check_text(filename, suffix, _head_text(filename, source))
    return requested


def _head_text(filename: str, source: BinaryIO) -> str:
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise ApiError(415, "not_text", f"{filename}: binary data where a text export was expected")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the sniff boundary is fine
            raise ApiError(
                415, "not_text", f"{filename}: the file is not UTF-8 text (byte {exc.start})"
            ) from None
        text = head[: exc.start].decode("utf-8")
    return text.removeprefix("\ufeff")


def _not_an_export(filename: str, why: str) -> ApiError:
    return ApiError(422, "not_a_chat_export", f"{filename}: {why}")


def _check_text(filename: str, suffix: str, text: str) -> None:
    if suffix == ".txt":
        if not _WHATSAPP_LINE.search(text):
            raise _not_an_export(
                filename,
                f"no WhatsApp message line in the first "
                f"{SNIFF_BYTES // 1024} KiB (expected lines like "
                "'31/12/2023, 21:15 - Name: text')",
            )
    elif suffix == ".json":
        if not text.lstrip().startswith(("{", "[")):
            raise _not_an_export(filename, "the file is not JSON")
        keys = set(_JSON_KEY.findall(text))
        if not any(marker <= keys for markers in _JSON_MARKERS.values() for marker in markers):
            raise _not_an_export(
                filename,
                "not a Telegram, Discord or ChatGPT export (none of their keys near the start)",
            )
    elif suffix == ".csv":
        first = text.lstrip().split("\n", 1)[0]
        try:
            header = next(csv.reader([first], csv.Sniffer().sniff(first, ",;\t|")))
        except (csv.Error, StopIteration):
            raise _not_an_export(filename, "no CSV header row with two or more columns") from None
        if len(header) < 2:
            raise _not_an_export(filename, "no CSV header row with two or more columns")
    else:  # JSON lines: the first line is one JSON object
        first = text.lstrip().split("\n", 1)[0]
        if not first.startswith("{"):
            raise _not_an_export(filename, "the first line is not a JSON object")
        if len(first) < len(text.lstrip()):  # a whole line was read: it must parse
            try:
                json.loads(first)
            except json.JSONDecodeError as exc:  # where, not the decoder's wording
                raise _not_an_export(
                    filename, f"line 1 is not valid JSON (column {exc.colno})"
                ) from None
            except (ValueError, RecursionError):
                raise _not_an_export(filename, "line 1 is not valid JSON") from None


def _check_archive(filename: str, source: BinaryIO, limits: archives.ArchiveLimits) -> None:
    source.seek(0)
    try:
        # An open file, not a path: archives names an unreadable top-level file only by its
        # path, and ours is the store's temporary name.
        entries = archives.inspect(source, limits)
    except archives.ArchiveRefused as exc:
        status = 413 if exc.code in _TOO_LARGE else 422
        raise ApiError(status, exc.code, f"{filename}: {exc.message}") from None
    readable = [
        e
        for e in entries
        if not e.is_dir and not e.is_archive and Path(e.name).suffix.lower() in SUFFIXES
    ]
    if not readable:
        raise _not_an_export(
            filename, "the archive holds no chat export (no .txt, .json, .csv or .jsonl file)"
        )
