"""Exports: a chat or a time window of a version as CSV, JSON or a Markdown transcript.

The messages come from the index (``index.messages``: the version's live messages that pass the
filters, in time order), at most ``MAX_MESSAGES``; a larger window is refused (413
``window_too_large``) rather than cut. Times are written in the requested zone.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) get a leading apostrophe (OWASP's advice for CSV injection), so a
message "=HYPERLINK(…)" opens as the text it was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from chatlens.gateway.application.analytics import ReportQuery, filters_of, zone_of
from chatlens.gateway.application.errors import Conflict, TooLarge
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.shared import schemas

Format = Literal["csv", "json", "markdown"]
MAX_MESSAGES = 10_000
COLUMNS = ("time", "chat", "sender", "kind", "text", "message_id", "reply_to", "platform")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~"})


@dataclass(frozen=True)
class Exported:
    body: str
    mimetype: str
    filename: str


def export(
    backends: Backends, caller: Caller, collection_id: str, query: ReportQuery, fmt: Format
) -> Exported:
    """The filtered messages of the version, written as ``fmt``."""
    zone = zone_of(query.timezone)
    filters = filters_of(query, zone)
    if indexed_version(backends, caller, collection_id) == 0:
        raise Conflict("collection_empty", "nothing has been indexed in this collection")
    version = resolve_version(backends, caller, collection_id, query.version)
    listed = backends.rpc.call(
        schemas.MessagesListRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            filters=filters,
            version=version,
            limit=MAX_MESSAGES,
        ),
        schemas.MessagesListed,
    )
    if listed.total > MAX_MESSAGES:
        raise TooLarge(
            "window_too_large",
            f"the selection holds {listed.total} messages; an export takes at most "
            f"{MAX_MESSAGES}: narrow it with chat, sender, since or until",
        )
    writer: Callable[[list[schemas.ChatMessage], ZoneInfo, int], str] = WRITERS[fmt]
    body = writer(listed.messages, zone, listed.version)
    mimetype = {"csv": "text/csv", "json": "application/json", "markdown": "text/markdown"}[fmt]
    extension = {"csv": "csv", "json": "json", "markdown": "md"}[fmt]
    return Exported(
        body,
        f"{mimetype}; charset=utf-8",
        f"chatlens-{collection_id}-v{listed.version}.{extension}",
    )


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it, never runs it."""
    return "'" + value if value.startswith(_FORMULA) else value


def as_csv(messages: list[schemas.ChatMessage], zone: ZoneInfo, version: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for m in messages:
        writer.writerow(
            [
                safe_cell(str(v))
                for v in (
                    m.sent_at.astimezone(zone).isoformat(),
                    m.chat,
                    m.sender or "",
                    m.kind,
                    m.text,
                    m.message_id,
                    m.reply_to or "",
                    m.platform,
                )
            ]
        )
    return out.getvalue()


def as_json(messages: list[schemas.ChatMessage], zone: ZoneInfo, version: int) -> str:
    rows = [
        {
            **m.model_dump(
                mode="json",
                include={
                    "message_id",
                    "platform",
                    "chat",
                    "sender",
                    "kind",
                    "text",
                    "reply_to",
                    "thread_id",
                },
            ),
            "time": m.sent_at.astimezone(zone).isoformat(),
        }
        for m in messages
    ]
    return json.dumps(
        {"version": version, "timezone": zone.key, "count": len(rows), "messages": rows},
        ensure_ascii=False,
    )


def as_markdown(messages: list[schemas.ChatMessage], zone: ZoneInfo, version: int) -> str:
    """One section per chat, a heading per day, a line per message (Markdown escaped)."""
    lines = [f"*Exported from Chatlens, version {version}, times in {zone.key}.*"]
    by_chat: dict[str, list[schemas.ChatMessage]] = {}
    for m in messages:
        by_chat.setdefault(m.chat, []).append(m)
    for chat, said in by_chat.items():
        lines += ["", f"# {chat.translate(_MARKDOWN)}"]
        day = None
        for m in said:
            local = m.sent_at.astimezone(zone)
            if local.date() != day:
                day = local.date()
                lines += ["", f"## {day.isoformat()}", ""]
            text = " ".join(m.text.split()).translate(_MARKDOWN)
            if m.sender is None:
                lines.append(f"- {local:%H:%M} _{text}_")
            else:
                lines.append(f"- {local:%H:%M} **{m.sender.translate(_MARKDOWN)}**: {text}")
    return "\n".join(lines) + "\n"


WRITERS = {"csv": as_csv, "json": as_json, "markdown": as_markdown}
