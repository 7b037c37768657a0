"""Which export a file is, judged by its content (the extension only breaks ties).

The first 64 KiB decide: a zip is judged by its entry names, JSON by the keys it opens with
(read with the same streaming parser, so a 1 GB file costs 64 KiB here), text by whether its
lines look like WhatsApp messages, CSV rows or JSON lines. An archive's export may be one entry
of it (``_chat.txt``, ``conversations.json``, ``result.json``); :func:`locate` finds it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from chatlens.embedding_worker.errors import NotAChatExport
from chatlens.embedding_worker.parsing import jsonstream, lines, tabular
from chatlens.embedding_worker.parsing.source import (
    Source,
    file_entries,
    open_archive,
    refusals_as_errors,
)
from chatlens.shared.archives import ArchiveLimits, is_zip

SNIFF_BYTES = 64 * 1024
_ENTRY_FORMATS = (  # an archive entry's base name that gives the format away, in preference order
    ("_chat.txt", "whatsapp"),
    ("conversations.json", "chatgpt"),
    ("result.json", "telegram"),
)
_SUFFIX_FORMATS = (".txt", ".json", ".csv", ".jsonl", ".ndjson")
# The entries a forced format may be read from, when an archive holds several files.
_FORCED_SUFFIXES = {
    "whatsapp": (".txt",),
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson"),
    "telegram": (".json",),
    "discord": (".json",),
    "chatgpt": (".json",),
}


def head_of(source: Source) -> bytes:
    with source.open() as handle:
        return handle.read(SNIFF_BYTES)


def json_format(head: bytes, *, whole: bool) -> str | None:
    """The JSON export whose keys ``head`` opens with, or None."""
    seen: set[str] = set()
    reader = jsonstream.TolerantReader(io.BytesIO(head))
    try:
        for prefix, event, value in jsonstream.events(reader):
            if event == "map_key" and prefix.count(".") <= 3:
                seen.add(f"{prefix}.{value}".lstrip("."))
            if len(seen) > 400:
                break
    except NotAChatExport as exc:
        # The head ends mid-file, which reads as truncated; only nesting is judged on a head.
        if exc.reason == "too_deep" or (whole and not seen):
            raise
    if {"chats.list", "personal_information"} & seen or (
        "messages" in seen
        and {"messages.item.date", "messages.item.date_unixtime", "messages.item.text_entities"}
        & seen
    ):
        return "telegram"
    if {"guild", "channel"} <= seen or {
        "messages.item.author",
        "messages.item.timestampEdited",
    } <= seen:
        return "discord"
    if {"item.mapping", "item.current_node"} & seen:
        return "chatgpt"
    return None


def _jsonl_like(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].strip()
    try:
        record = json.loads(first)
    except (ValueError, RecursionError):
        return False
    if not isinstance(record, dict):
        return False
    try:
        tabular.mapping_for(list(record))
    except NotAChatExport:
        return False
    return True


_BY_SUFFIX = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _csv_like(text: str) -> bool:
    header = text.split("\n", 1)[0]
    if "," not in header and ";" not in header and "\t" not in header:
        return False
    try:
        tabular.mapping_for(next(csv.reader([header])))
    except (NotAChatExport, csv.Error, StopIteration):
        return False
    return True


def _whatsapp_like(text: str) -> bool:
    return any(
        lines.HEADER.match(lines.normalise(lines.strip_marks(line)))
        for line in text.splitlines()[:200]
    )


def sniff(source: Source, name: str) -> str:
    """The format of a file (not an archive); falls back to what its suffix says, else WhatsApp,
    whose parser's error then explains."""
    return sniff_head(head_of(source), name)


def sniff_head(head: bytes, name: str, *, strict: bool = False) -> str:
    """The format of a file from its first :data:`SNIFF_BYTES`; ``strict`` refuses a file that
    looks like no export at all instead of falling back to WhatsApp."""
    whole = len(head) < SNIFF_BYTES
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = Path(name).suffix.lower()
    if not body:
        raise NotAChatExport("the file is empty", reason="empty")
    if b"\x00" in head:
        nul = head.index(b"\x00")
        raise NotAChatExport(
            "the file is binary, not a chat export", reason="binary", location=f"byte {nul}"
        )
    text = head.decode("utf-8", "replace")
    # Before JSON: an iOS WhatsApp export starts with "[" too.
    if _whatsapp_like(text):
        return "whatsapp"
    if body[:1] in (b"{", b"["):
        if suffix in (".jsonl", ".ndjson") and _jsonl_like(body):
            return "jsonl"
        found = json_format(body, whole=whole)
        if found:
            return found
        if _jsonl_like(body):
            return "jsonl"
        raise NotAChatExport(
            "a JSON file, but not an export this service reads (Telegram result.json, "
            "DiscordChatExporter JSON, ChatGPT conversations.json, or JSON lines with "
            "timestamp and text)",
            reason="unknown_json",
        )
    if _csv_like(text):
        return "csv"
    if strict:
        raise NotAChatExport(
            "no WhatsApp message line, CSV header or JSON export in its first "
            f"{SNIFF_BYTES // 1024} KiB",
            reason="not_a_chat_export",
        )
    # Nothing recognisable: the parser its name promises explains what is wrong (a bad .csv
    # gets the CSV parser's reason, not the WhatsApp parser's); any other name gets WhatsApp's.
    return _BY_SUFFIX.get(suffix, "whatsapp")


def _sniffed(
    path: Path, names: list[str], limits: ArchiveLimits | None
) -> list[tuple[str | NotAChatExport | None, Source]]:
    """``names`` with their formats, judged by their heads in one pass over the archive (opening
    it once per file costs a check of every entry each time: minutes for a few thousand files);
    one that is no export comes back as a :class:`NotAChatExport` for the caller to report."""
    found: list = []
    with open_archive(path, limits) as archive:
        for name in names:
            with refusals_as_errors(), archive.open(name) as stream:
                head = stream.read(SNIFF_BYTES)
            try:
                found.append((sniff_head(head, name, strict=True), Source(path, name, limits)))
            except NotAChatExport as exc:
                found.append((exc, Source(path, name, limits)))
    return found


def locate(
    path: Path, format: str | None, limits: ArchiveLimits | None = None
) -> list[tuple[str | NotAChatExport | None, Source]]:
    """The exports inside ``path`` as ``(format, source)``; ``format`` None means detect it, a
    :class:`NotAChatExport` that the entry was judged no export (the caller reports it).

    One entry for a plain file, a Slack export, or an archive around one export (a WhatsApp zip
    with its media); several for an archive of exports, or an export beside other text or JSON
    files (the ChatGPT export's ``user.json``), whose formats (None) are then detected one by one
    by the caller, so an entry that is no export is reported and left out instead of failing
    the others.
    """
    if not is_zip(path):
        source = Source(path)
        return [(format or sniff(source, path.name), source)]
    entries = [e.name for e in file_entries(path, limits)]
    base = {name: name.rsplit("/", 1)[-1] for name in entries}
    if format in (None, "slack") and any(
        b in ("channels.json", "users.json") for b in base.values()
    ):
        return [("slack", Source(path, None, limits))]
    # Every well-known export file in the archive: one is an export zip (its other files are
    # media), several are an archive of exports (three WhatsApp chats, a Telegram and a ChatGPT
    # export side by side), and each of them is read.
    known = [
        (entry_format, Source(path, name, limits))
        for wanted, entry_format in _ENTRY_FORMATS
        if format in (None, entry_format)
        for name in entries
        if base[name] == wanted
    ]
    suffixes = _FORCED_SUFFIXES.get(format or "", tuple(_SUFFIX_FORMATS))
    candidates = [
        n
        for n in entries
        if Path(n).suffix.lower() in suffixes
        and not base[n].startswith(".")
        and not n.startswith("__MACOSX/")
    ]
    if known:
        # Loose exports beside them are read too; one that is no export (the ChatGPT export's
        # user.json, a note, a document a chat shared) is reported as skipped.
        taken = {source.entry for _, source in known}
        loose = [name for name in candidates if name not in taken]
        return [
            *known,
            *(
                _sniffed(path, loose, limits)
                if format is None
                else ((format, Source(path, name, limits)) for name in loose)
            ),
        ]
    if len(candidates) == 1:
        # A zip around one export (a WhatsApp "WhatsApp Chat with X.txt" with its media, ...).
        source = Source(path, candidates[0], limits)
        return [(format or sniff(source, candidates[0]), source)]
    if candidates:
        return [(format, Source(path, name, limits)) for name in candidates]
    raise NotAChatExport(
        "the archive holds no chat export this service reads (_chat.txt, conversations.json, "
        "result.json, a Slack export with channels.json, or .txt/.json/.csv/.jsonl files)",
        reason="unknown_archive",
    )
