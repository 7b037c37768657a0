"""Telegram Desktop's JSON export (``result.json``): one chat, or a whole account (``chats.list``).

Streamed with :mod:`.jsonstream`: pass one checks the file and counts the messages, pass two
yields them one by one. The chat's name, type and id come before its messages in the file, so they
are known when its messages arrive. ``date_unixtime`` is the truth when present; ``date`` alone
is the exporting machine's local time, read with the upload's time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chatlens.embedding_worker.parsing import jsonstream
from chatlens.embedding_worker.parsing.common import clean, from_unix, native_message_id
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.source import Source
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.schemas import Attachment, ChatMessage, Reaction

log = logging.getLogger(__name__)

PLATFORM = "telegram"
_CHAT_BASES = ("", "chats.list.item", "left_chats.list.item")
ITEM_PREFIXES = frozenset(f"{base}.messages.item".lstrip(".") for base in _CHAT_BASES)
_CALL_ACTIONS = frozenset({"phone_call", "group_call", "invite_to_group_call"})
_MEDIA_KEYS = ("photo", "file", "sticker_emoji", "location_information", "contact_information")


class _Chats:
    """The chat each message belongs to, followed through the event stream."""

    def __init__(self, fallback: str) -> None:
        self.fallback = fallback
        self.meta: dict[str, Any] = {}
        self.number = -1  # the chat's place in its list (-1: a single-chat export)
        self._seen: dict[str, int] = {}

    def on_start(self, prefix: str) -> None:
        if prefix in ("chats.list.item", "left_chats.list.item"):
            self.number = self._seen.get(prefix, -1) + 1
            self._seen[prefix] = self.number
            self.meta = {"_base": prefix}

    def on_scalar(self, prefix: str, value: Any) -> None:
        base, _, key = prefix.rpartition(".")
        if base in _CHAT_BASES and key in ("name", "type", "id"):
            self.meta[key] = value

    @property
    def key(self) -> str:
        return str(self.meta.get("id", self.fallback))

    @property
    def name(self) -> str:
        name = self.meta.get("name")
        if name:
            return clean(name)
        if self.meta.get("type") == "saved_messages":
            return "Saved Messages"
        if "id" not in self.meta:
            return self.fallback
        return f"{self.meta.get('type', 'chat')} {self.key}"


def rebuild_text(message: dict[str, Any]) -> str:
    """The message text: a plain string, or the pieces of ``text_entities`` / a mixed array."""
    entities = message.get("text_entities")
    if isinstance(entities, list) and entities:
        return "".join(clean(e.get("text")) for e in entities if isinstance(e, dict))
    text = message.get("text")
    if isinstance(text, list):
        return "".join(
            clean(p) if isinstance(p, str) else clean(p.get("text"))
            for p in text
            if isinstance(p, (str, dict))
        )
    return clean(text) if isinstance(text, str) else ""


def _file_name(path: Any) -> str | None:
    """The file's name from its export path; None for "(File not included. ...)"."""
    text = clean(path)
    return None if not text or text.startswith("(") else text.rsplit("/", 1)[-1]


def _attachments(message: dict[str, Any]) -> list[Attachment]:
    found = []
    if "photo" in message:
        found.append(
            Attachment(
                name=_file_name(message["photo"]),
                type="photo",
                size=_int(message.get("photo_file_size")),
            )
        )
    if "file" in message:
        name = message.get("file_name") or _file_name(message["file"])
        found.append(
            Attachment(
                name=clean(name) or None,
                type=message.get("media_type") or "file",
                mime=message.get("mime_type"),
                size=_int(message.get("file_size")),
            )
        )
    for key, kind in (("location_information", "location"), ("contact_information", "contact")):
        if key in message:
            found.append(Attachment(type=kind))
    return found


def _reactions(message: dict[str, Any]) -> list[Reaction]:
    found = []
    for reaction in message.get("reactions") or []:
        if not isinstance(reaction, dict):
            continue
        emoji = reaction.get("emoji") or reaction.get("document_id") or reaction.get("type", "?")
        users = [
            clean(r.get("from"))
            for r in reaction.get("recent") or []
            if isinstance(r, dict) and r.get("from")
        ]
        found.append(
            Reaction(emoji=clean(emoji), count=_int(reaction.get("count")) or 1, users=users)
        )
    return found


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _poll_text(poll: dict[str, Any]) -> str:
    answers = [clean(a.get("text")) for a in poll.get("answers") or [] if isinstance(a, dict)]
    return "\n".join([clean(poll.get("question")), *(f"- {a}" for a in answers)]).strip()


class TelegramExport:
    """A Telegram Desktop JSON export; :meth:`messages` streams it."""

    format = PLATFORM

    def __init__(
        self, source: Source, *, source_file: str, clock: Clock, chat_fallback: str
    ) -> None:
        self.source, self.source_file, self.clock = source, source_file, clock
        self.chat_fallback = chat_fallback
        with source.open() as raw:
            self.total = jsonstream.count_items(raw, ITEM_PREFIXES)
        self.diagnostics = Diagnostics(PLATFORM, clock.assumption, variant=None)

    def messages(self) -> Iterator[ChatMessage]:
        chats = _Chats(self.chat_fallback)
        seq = 0
        with self.source.open() as raw:
            stream = jsonstream.events(jsonstream.TolerantReader(raw))
            for _prefix, index, item in jsonstream.collect(
                stream, ITEM_PREFIXES, chats.on_scalar, chats.on_start
            ):
                self.diagnostics.variant = "account" if chats.number >= 0 else "chat"
                path = (
                    f"$.{chats.meta['_base'].replace('.item', f'[{chats.number}]')}"
                    f".messages[{index}]"
                    if chats.number >= 0
                    else f"$.messages[{index}]"
                )
                if not isinstance(item, dict):
                    self.diagnostics.skip(path, "a message that is not a JSON object")
                    continue
                message = self.diagnostics.attempt(path, self._message, item, chats, seq, path)
                if message is None:
                    continue
                seq += 1
                yield self.diagnostics.count(message)

    def _message(
        self, item: dict[str, Any], chats: _Chats, seq: int, path: str
    ) -> ChatMessage | None:
        sent_at, original, assumption = self._time(item)
        if sent_at is None:
            self.diagnostics.skip(path, "a message without a valid date")
            return None
        chat_key = chats.key
        native = item.get("id")
        text = rebuild_text(item)
        attachments = _attachments(item)
        is_service = item.get("type") == "service"
        if is_service:
            action = clean(item.get("action")) or "service"
            kind = "call" if action in _CALL_ACTIONS else "service"
            sender, sender_id = item.get("actor"), item.get("actor_id")
            text = text or _service_text(action, item)
        else:
            sender, sender_id = item.get("from"), item.get("from_id")
            kind = "text"
            if isinstance(item.get("poll"), dict):
                kind, text = "poll", _poll_text(item["poll"])
            elif attachments:
                kind = "media"
        reply = item.get("reply_to_message_id")
        message_id = (
            native_message_id(PLATFORM, chat_key, native)
            if native is not None
            else native_message_id(PLATFORM, chat_key, f"{path}")
        )
        return ChatMessage(
            message_id=message_id,
            native_id=None if native is None else str(native),
            platform=PLATFORM,
            chat=chats.name,
            sender=clean(sender) if sender else None,
            sender_id=clean(sender_id) if sender_id else None,
            sent_at=sent_at,
            original_timestamp=original,
            tz_assumption=assumption,
            kind=kind,
            text=text,
            seq=seq,
            source_file=self.source_file,
            source_path=path,
            edited=bool(item.get("edited") or item.get("edited_unixtime")),
            reply_to=native_message_id(PLATFORM, chat_key, reply) if reply is not None else None,
            forwarded_from=clean(item["forwarded_from"]) if item.get("forwarded_from") else None,
            attachments=attachments,
            reactions=_reactions(item),
        )

    def _time(self, item: dict[str, Any]) -> tuple[datetime | None, str | None, str]:
        original = item.get("date")
        unix = item.get("date_unixtime")
        try:
            if unix not in (None, ""):
                return from_unix(unix), clean(original or unix), "exact (date_unixtime)"
            if isinstance(original, str):
                return (
                    self.clock.to_utc(datetime.fromisoformat(original).replace(tzinfo=None)),
                    original,
                    self.clock.assumption,
                )
        except (ValueError, OverflowError, OSError, TypeError):
            pass
        return None, clean(original) if original else None, self.clock.assumption


def _service_text(action: str, item: dict[str, Any]) -> str:
    """A readable line for a service event that has no text of its own."""
    actor = clean(item.get("actor")) or "someone"
    words = action.replace("_", " ")
    detail = item.get("title") or ", ".join(
        clean(m) for m in item.get("members") or [] if isinstance(m, str)
    )
    if action in _CALL_ACTIONS and item.get("duration_seconds") is not None:
        detail = f"{item['duration_seconds']} s"
    return f"{actor}: {words}" + (f" ({clean(detail)})" if detail else "")
