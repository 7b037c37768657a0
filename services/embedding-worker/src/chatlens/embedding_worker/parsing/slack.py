"""Slack's workspace export (a ``.zip``): channel lists, users, and one JSON array per channel day.

``channels.json``/``groups.json`` name public/private channels (their folders are named after
them), ``dms.json``/``mpims.json`` direct and group messages (folders named by id / by name),
``users.json`` the people. Each message's native id is its ``ts`` within its channel, so a thread
is assembled across day files without holding them: a reply's ``thread_ts`` is its parent's ts.
Day files are small and read one at a time, in date order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from chatlens.embedding_worker.errors import NotAChatExport
from chatlens.embedding_worker.parsing import jsonstream, mrkdwn
from chatlens.embedding_worker.parsing.common import clean, from_unix, native_message_id
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.source import (
    Source,
    file_entries,
    open_archive,
    refusals_as_errors,
)
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.archives import SafeZip
from chatlens.shared.schemas import Attachment, ChatMessage, Reaction

PLATFORM = "slack"
ASSUMPTION = "exact (unix time)"
LISTS = ("channels.json", "groups.json", "mpims.json", "dms.json")
SERVICE_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "reminder_add",
        "channel_convert_to_private",
    }
)
_DELETED = frozenset({"tombstone", "message_deleted"})


@dataclass(frozen=True)
class Conversation:
    id: str
    name: str
    folder: str


def _items(raw: BinaryIO) -> Iterator[tuple[int, Any]]:
    stream = jsonstream.events(jsonstream.TolerantReader(raw))
    for _, index, item in jsonstream.collect(stream, frozenset({"item"})):
        yield index, item


def _read_array(source: Source) -> Iterator[tuple[int, Any]]:
    with source.open() as raw:
        yield from _items(raw)


class SlackExport:
    format = PLATFORM

    def __init__(
        self, source: Source, *, source_file: str, clock: Clock, chat_fallback: str
    ) -> None:
        self.source, self.source_file = source, source_file
        names = [e.name for e in file_entries(source.path, source.limits)]
        anchor = next(
            (n for n in names if n.rsplit("/", 1)[-1] in ("channels.json", "users.json")), None
        )
        if anchor is None:
            raise NotAChatExport(
                "a Slack export needs channels.json or users.json", reason="not_a_chat_export"
            )
        self.root = anchor.rsplit("/", 1)[0] + "/" if "/" in anchor else ""
        self.days: dict[str, list[str]] = {}
        for name in names:
            rest = name.removeprefix(self.root)
            if name.startswith(self.root) and rest.count("/") == 1 and rest.endswith(".json"):
                folder = rest.split("/", 1)[0]
                self.days.setdefault(folder, []).append(name)
        self.real_names: dict[str, str] = {}  # user id -> real name, where it differs
        self.users = self._users(names)
        self.conversations = self._conversations(names)
        self.channel_names = {c.id: c.name for c in self.conversations}
        self.total = None
        self.diagnostics = Diagnostics(PLATFORM, ASSUMPTION)

    def _users(self, names: list[str]) -> dict[str, str]:
        users: dict[str, str] = {}
        if self.root + "users.json" in names:
            for _, user in _read_array(self.source.sibling(self.root + "users.json")):
                if isinstance(user, dict) and user.get("id"):
                    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
                    # The display name, as Slack shows a user; the real name is kept beside it.
                    users[user["id"]] = clean(
                        profile.get("display_name")
                        or user.get("real_name")
                        or profile.get("real_name")
                        or user.get("name")
                        or user["id"]
                    )
                    real = clean(user.get("real_name") or profile.get("real_name") or "")
                    if real and real.casefold() != users[user["id"]].casefold():
                        self.real_names[user["id"]] = real
        return users

    def _alias(
        self, item: dict[str, Any], profile: dict[str, Any], sender: str | None
    ) -> str | None:
        """The sender's real name where it differs from the name shown: from users.json, else
        from the message's own ``user_profile``."""
        real = self.real_names.get(item.get("user") or "") or clean(profile.get("real_name") or "")
        return real if real and sender and real.casefold() != clean(sender).casefold() else None

    def _conversations(self, names: list[str]) -> list[Conversation]:
        found: list[Conversation] = []
        for listing in LISTS:
            if self.root + listing not in names:
                continue
            for _, item in _read_array(self.source.sibling(self.root + listing)):
                if not isinstance(item, dict) or not item.get("id"):
                    continue
                cid = str(item["id"])
                members = [self.users.get(m, m) for m in item.get("members") or []]
                if listing == "dms.json":
                    name, folder = "DM " + ", ".join(members), cid
                elif listing == "mpims.json":
                    folder = clean(item.get("name") or cid)
                    name = "Group DM " + ", ".join(members) if members else folder
                else:
                    name = folder = clean(item.get("name") or cid)
                if folder in self.days:
                    found.append(Conversation(cid, name, folder))
        known = {c.folder for c in found}
        # A folder no list names (a list left out of the export) is still read, under its name.
        found += [Conversation(f, f, f) for f in sorted(self.days) if f not in known]
        return found

    def messages(self) -> Iterator[ChatMessage]:
        seq = 0
        # One open archive for all day files: opening it checks every entry, once is enough.
        with open_archive(self.source.path, self.source.limits) as archive:
            for conversation in self.conversations:
                for day in sorted(self.days[conversation.folder]):
                    for message in self._day(archive, day, conversation, seq):
                        seq += 1
                        yield self.diagnostics.count(message)

    def _day(
        self, archive: SafeZip, day: str, conversation: Conversation, seq: int
    ) -> Iterator[ChatMessage]:
        with refusals_as_errors(), archive.open(day) as raw:
            for index, item in _items(raw):
                path = f"{day}[{index}]"
                if not isinstance(item, dict):
                    self.diagnostics.skip(path, "a message that is not a JSON object")
                    continue
                message = self.diagnostics.attempt(
                    path, self._message, item, conversation, seq, path
                )
                if message is not None:
                    seq += 1
                    yield message

    def _message(
        self, item: dict[str, Any], conversation: Conversation, seq: int, path: str
    ) -> ChatMessage | None:
        ts = item.get("ts")
        try:
            sent_at = from_unix(ts)
        except (TypeError, ValueError, OverflowError, OSError):
            self.diagnostics.skip(path, "a message without a valid ts")
            return None
        subtype = item.get("subtype")
        user = item.get("user") or item.get("bot_id")
        profile = item.get("user_profile") if isinstance(item.get("user_profile"), dict) else {}
        bot = item.get("bot_profile") if isinstance(item.get("bot_profile"), dict) else {}
        sender = (
            self.users.get(item.get("user") or "")
            or profile.get("display_name")
            or profile.get("real_name")
            or item.get("username")
            or bot.get("name")
            or user
        )
        # A bot's post (``bot_message``: deploy notices, alerts) is a message its bot wrote,
        # not an event; an integration often leaves ``text`` empty and says it in attachments.
        text = mrkdwn.resolve(
            clean(item.get("text") or _legacy_attachments(item)), self.users, self.channel_names
        )
        attachments = [
            Attachment(
                name=clean(f.get("name") or f.get("title")) or None,
                type=f.get("filetype"),
                mime=f.get("mimetype"),
                size=f.get("size") if isinstance(f.get("size"), int) else None,
            )
            for f in item.get("files") or []
            if isinstance(f, dict)
        ]
        if subtype in SERVICE_SUBTYPES:
            kind = "service"
        elif subtype in _DELETED:
            kind = "deleted"
        elif subtype == "huddle_thread" or item.get("type") == "call":
            kind = "call"
        else:
            kind = "media" if attachments and not text else "text"
        thread_ts = item.get("thread_ts")
        key = conversation.id
        parent = native_message_id(PLATFORM, key, thread_ts) if thread_ts else None
        return ChatMessage(
            message_id=native_message_id(PLATFORM, key, ts),
            native_id=str(ts),
            platform=PLATFORM,
            chat=conversation.name,
            sender=clean(sender) if sender else None,
            sender_id=str(user) if user else None,
            sent_at=sent_at,
            original_timestamp=str(ts),
            sender_alias=self._alias(item, profile, sender),
            tz_assumption=ASSUMPTION,
            kind=kind,
            text=text,
            seq=seq,
            source_file=self.source_file,
            source_path=path,
            edited=bool(item.get("edited")),
            deleted=kind == "deleted",
            thread_id=parent,
            reply_to=parent if thread_ts and thread_ts != ts else None,
            attachments=attachments,
            reactions=[
                Reaction(
                    emoji=clean(r.get("name")) or "?",
                    count=r.get("count") if isinstance(r.get("count"), int) else 1,
                    users=[
                        self.users.get(u, u) for u in r.get("users") or [] if isinstance(u, str)
                    ],
                )
                for r in item.get("reactions") or []
                if isinstance(r, dict)
            ],
        )


def _legacy_attachments(item: dict[str, Any]) -> str:
    """The words of a message's legacy attachments (pretext, title, text; else the fallback),
    one attachment a line: what an integration's post shows when its own text is empty."""
    lines = []
    for part in item.get("attachments") or []:
        if not isinstance(part, dict):
            continue
        shown = [
            str(part[k])
            for k in ("pretext", "title", "text")
            if isinstance(part.get(k), str) and part[k].strip()
        ]
        if not shown and isinstance(part.get("fallback"), str):
            shown = [part["fallback"]]
        lines.append(" ".join(shown))
    return "\n".join(line for line in lines if line)
