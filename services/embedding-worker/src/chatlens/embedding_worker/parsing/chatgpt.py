"""ChatGPT's ``conversations.json`` (alone or inside the export zip): each conversation's thread.

A conversation is a tree (``mapping``): editing a prompt or regenerating an answer adds a branch.
The thread the user saw last is the path from ``current_node`` up to the root through ``parent``,
so only that path is read, root first. Messages hidden from the conversation (the system prompt,
custom instructions) are left out; code the assistant writes (for the code interpreter) is an
authored assistant message; other tool calls and tool output are kept as service events, which
are stored but not embedded. Conversations are streamed one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatlens.embedding_worker.parsing import jsonstream
from chatlens.embedding_worker.parsing.common import clean, from_unix, native_message_id
from chatlens.embedding_worker.parsing.diagnostics import Diagnostics
from chatlens.embedding_worker.parsing.source import Source
from chatlens.embedding_worker.parsing.timestamps import Clock
from chatlens.shared.schemas import Attachment, ChatMessage

PLATFORM = "chatgpt"
ITEM_PREFIXES = frozenset({"item"})
ASSUMPTION = "exact (unix time)"
# Content types whose text is what the user or the model said; other types (browsing displays,
# reasoning recaps...) are the tools' plumbing.
_TEXT_TYPES = frozenset({"text", "code", "multimodal_text", "execution_output"})


def thread(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes from the root to ``current_node``; a cycle or a dangling parent ends the walk."""
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        return []
    node_id = conversation.get("current_node")
    if node_id not in mapping:
        # Old exports have no current_node: follow the last child from the root instead.
        roots = [n for n in mapping.values() if isinstance(n, dict) and not n.get("parent")]
        node_id = None
        node = roots[0] if roots else None
        while isinstance(node, dict):
            node_id = node.get("id")
            children = node.get("children") or []
            node = mapping.get(children[-1]) if children else None
    path, seen = [], set()
    while node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


def content_text(content: Any) -> tuple[str, list[Attachment]]:
    """The text of a message's content, and its images or files as attachments."""
    if not isinstance(content, dict):
        return "", []
    kind = content.get("content_type")
    if kind == "code" or (kind == "execution_output" and "text" in content):
        return clean(content.get("text")), []
    if kind not in _TEXT_TYPES:
        return "", []
    texts, attachments = [], []
    for part in content.get("parts") or []:
        if isinstance(part, str):
            texts.append(clean(part))
        elif isinstance(part, dict):
            part_type = clean(part.get("content_type")) or "file"
            size = part.get("size_bytes")
            attachments.append(
                Attachment(
                    name=clean(part.get("asset_pointer") or part.get("name")) or None,
                    type=part_type,
                    size=int(size) if isinstance(size, (int, float)) else None,
                )
            )
    return "\n".join(t for t in texts if t).strip(), attachments


class ChatGPTExport:
    format = PLATFORM

    def __init__(
        self, source: Source, *, source_file: str, clock: Clock, chat_fallback: str
    ) -> None:
        self.source, self.source_file = source, source_file
        with source.open() as raw:
            self.conversations = jsonstream.count_items(raw, ITEM_PREFIXES)
        self.total = None  # messages are only known conversation by conversation
        self.diagnostics = Diagnostics(PLATFORM, ASSUMPTION)

    def messages(self) -> Iterator[ChatMessage]:
        seq = 0
        with self.source.open() as raw:
            stream = jsonstream.events(jsonstream.TolerantReader(raw))
            for _, index, conversation in jsonstream.collect(stream, ITEM_PREFIXES):
                if not isinstance(conversation, dict):
                    self.diagnostics.skip(f"$[{index}]", "a conversation that is no object")
                    continue
                # Built whole (one conversation is small), so a malformed one is skipped whole.
                thread_messages = (
                    self.diagnostics.attempt(
                        f"$[{index}]",
                        lambda c=conversation, i=index, s=seq: list(self._conversation(c, i, s)),
                    )
                    or []
                )
                for message in thread_messages:
                    seq += 1
                    yield self.diagnostics.count(message)

    def _conversation(
        self, conversation: dict[str, Any], index: int, seq: int
    ) -> Iterator[ChatMessage]:
        key = str(conversation.get("conversation_id") or conversation.get("id") or index)
        title = clean(conversation.get("title")) or f"Conversation {key}"
        fallback_time = conversation.get("create_time")
        previous: str | None = None
        for node in thread(conversation):
            message = node.get("message")
            if not isinstance(message, dict):
                continue
            metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
            if metadata.get("is_visually_hidden_from_conversation"):
                continue
            author = message.get("author") if isinstance(message.get("author"), dict) else {}
            role = clean(author.get("role")) or "unknown"
            text, attachments = content_text(message.get("content"))
            if not text and not attachments:
                continue  # the empty root system message, a tool call's empty shell
            if role == "system" and not text:
                continue
            # Code the assistant wrote for a tool (the code interpreter's input) is its own turn,
            # an authored message; the tool's output and other calls are service events.
            code = (
                role == "assistant"
                and isinstance(message.get("content"), dict)
                and message["content"].get("content_type") == "code"
            )
            tool = role == "tool" or (message.get("recipient") not in (None, "all") and not code)
            kind = "service" if tool or role == "system" else ("media" if not text else "text")
            when = message.get("create_time") or fallback_time
            path = f"$[{index}].mapping[{node.get('id')!r}]"
            if when is None:
                self.diagnostics.skip(path, "a message without a time")
                continue
            native = str(message.get("id") or node.get("id"))
            message_id = native_message_id(PLATFORM, key, native)
            sender = clean(author.get("name")) or role
            yield ChatMessage(
                message_id=message_id,
                native_id=native,
                platform=PLATFORM,
                chat=title,
                sender=sender,
                sender_id=role,
                sent_at=from_unix(when),
                original_timestamp=str(when),
                tz_assumption=ASSUMPTION,
                kind=kind,
                text=text,
                seq=seq,
                source_file=self.source_file,
                source_path=path,
                reply_to=previous,
                thread_id=native_message_id(PLATFORM, key, "conversation"),
                attachments=attachments,
            )
            seq += 1
            previous = message_id
