"""DiscordChatExporter's JSON export: one channel (guild, channel, messages), streamed.

Snowflake ids are the native ids, so the parts of a partitioned export (``[part 2]``) and
exports over overlapping date ranges give the same message the same id. Timestamps carry their
offset (local time unless exported with ``--utc``), so no time-zone assumption is needed.

A thread is exported as a channel of its own (type ``GuildPublicThread``, ``GuildPrivateThread``
or ``GuildNewsThread``) whose ``category``/``categoryId`` name its parent channel (the exporter's
schema predates threads and reuses those keys): its messages belong to the parent's chat, with
the thread as ``thread_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatlens.embedding_worker.parsing import jsonstream
from chatlens.embedding_worker.parsing.common import clean, native_message_id, parse_time
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.source import Source
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.schemas import Attachment, ChatMessage, Reaction

PLATFORM = "discord"
ITEM_PREFIXES = frozenset({"messages.item"})
_TEXT_TYPES = frozenset(
    {"Default", "Reply", "ThreadStarterMessage", "ChatInputCommand", "ContextMenuCommand"}
)


def _name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    return clean(person.get("nickname") or person.get("name")) or None


class DiscordExport:
    format = PLATFORM

    def __init__(
        self, source: Source, *, source_file: str, clock: Clock, chat_fallback: str
    ) -> None:
        self.source, self.source_file, self.clock = source, source_file, clock
        self.chat_fallback = chat_fallback
        with source.open() as raw:
            self.total = jsonstream.count_items(raw, ITEM_PREFIXES)
        self.diagnostics = Diagnostics(PLATFORM, "offset in the file")

    def messages(self) -> Iterator[ChatMessage]:
        meta: dict[str, Any] = {}
        seq = 0
        with self.source.open() as raw:
            stream = jsonstream.events(jsonstream.TolerantReader(raw))
            for _, index, item in jsonstream.collect(
                stream, ITEM_PREFIXES, on_scalar=meta.__setitem__
            ):
                path = f"$.messages[{index}]"
                if not isinstance(item, dict):
                    self.diagnostics.skip(path, "a message that is not a JSON object")
                    continue
                message = self.diagnostics.attempt(path, self._message, item, meta, seq, path)
                if message is not None:
                    seq += 1
                    yield self.diagnostics.count(message)

    def _chat(self, meta: dict[str, Any]) -> tuple[str, str]:
        """``(key, name)``: the key (the export's own channel, a thread's too) makes the ids; the
        name is the channel's, a thread's parent's."""
        guild, channel = meta.get("guild.name"), meta.get("channel.name")
        key = str(meta.get("channel.id") or self.chat_fallback)
        if _thread_of(meta) and meta.get("channel.category"):
            channel = meta["channel.category"]
        if guild and channel:
            return key, clean(f"{guild} / {channel}")
        return key, clean(channel or guild or self.chat_fallback)

    def _message(
        self, item: dict[str, Any], meta: dict[str, Any], seq: int, path: str
    ) -> ChatMessage | None:
        original = item.get("timestamp")
        try:
            sent_at, had_offset = parse_time(str(original), self.clock)
        except ValueError:
            self.diagnostics.skip(path, "a message without a valid timestamp")
            return None
        chat_key, chat = self._chat(meta)
        native = str(item.get("id") or path)
        kind_name = item.get("type") or "Default"
        attachments = [
            Attachment(
                name=clean(a.get("fileName")) or None,
                type="file",
                size=a.get("fileSizeBytes") if isinstance(a.get("fileSizeBytes"), int) else None,
            )
            for a in item.get("attachments") or []
            if isinstance(a, dict)
        ]
        text = clean(item.get("content"))
        if kind_name in _TEXT_TYPES:
            kind = "media" if attachments and not text else "text"
        elif kind_name == "Call":
            kind = "call"
        else:
            kind = "service"
            text = text or _service_text(kind_name, item)
        reference = item.get("reference") if isinstance(item.get("reference"), dict) else {}
        reply = reference.get("messageId")
        reply_chat = str(reference.get("channelId") or chat_key)
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        return ChatMessage(
            message_id=native_message_id(PLATFORM, chat_key, native),
            native_id=native,
            platform=PLATFORM,
            chat=chat,
            sender=_name(author),
            sender_id=str(author["id"]) if author.get("id") else None,
            sent_at=sent_at,
            original_timestamp=clean(original),
            tz_assumption="offset in the file" if had_offset else self.clock.assumption,
            kind=kind,
            text=text,
            seq=seq,
            source_file=self.source_file,
            source_path=path,
            edited=bool(item.get("timestampEdited")),
            reply_to=native_message_id(PLATFORM, reply_chat, reply) if reply else None,
            attachments=attachments,
            reactions=_reactions(item),
            thread_id=_thread_of(meta),
        )


def _thread_of(meta: dict[str, Any]) -> str | None:
    """The thread's id when the export is one: the id its starter message has in the parent
    channel (a thread started from a message shares that message's snowflake)."""
    kind, thread = str(meta.get("channel.type") or ""), meta.get("channel.id")
    if not kind.endswith("Thread") or not thread:
        return None
    return native_message_id(PLATFORM, str(meta.get("channel.categoryId") or thread), str(thread))


def _reactions(item: dict[str, Any]) -> list[Reaction]:
    found = []
    for reaction in item.get("reactions") or []:
        if not isinstance(reaction, dict) or not isinstance(reaction.get("emoji"), dict):
            continue
        emoji = reaction["emoji"].get("name") or reaction["emoji"].get("code") or "?"
        users = [n for n in map(_name, reaction.get("users") or []) if n]
        count = reaction.get("count") if isinstance(reaction.get("count"), int) else 1
        found.append(Reaction(emoji=clean(emoji), count=count, users=users))
    return found


def _service_text(kind_name: str, item: dict[str, Any]) -> str:
    author = _name(item.get("author")) or "someone"
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind_name).strip()
    return f"{author}: {words}"
