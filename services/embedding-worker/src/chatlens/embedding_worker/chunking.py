"""Chunks: runs of consecutive messages of one chat that read as one conversation.

A new chunk starts when the chat changes, after a quiet gap (30 minutes by default), or when a
chunk is full (20 messages), so a chunk is a short session a search hit can be shown in. The
chunk id is derived from its first message's id, so it is as stable as the message ids are.
Works on a stream: only the previous message is remembered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import timedelta

from chatlens.shared.schemas import ChatMessage

SESSION_GAP = timedelta(minutes=30)
MAX_CHUNK_MESSAGES = 20


def chunk_id_for(first_message_id: str) -> str:
    return hashlib.sha256(f"chunk\x1f{first_message_id}".encode()).hexdigest()[:32]


def assign_chunks(
    messages: Iterable[ChatMessage],
    *,
    gap: timedelta = SESSION_GAP,
    max_messages: int = MAX_CHUNK_MESSAGES,
) -> Iterator[ChatMessage]:
    """The same messages, in the same order, each with its ``chunk_id`` set."""
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    previous: ChatMessage | None = None
    chunk_id, size = "", 0
    for message in messages:
        if (
            previous is None
            or message.chat != previous.chat
            or size >= max_messages
            # abs(): a phone whose clock was corrected can step backwards; that is a break too.
            or abs(message.sent_at - previous.sent_at) > gap
        ):
            chunk_id, size = chunk_id_for(message.message_id), 0
        size += 1
        previous = message
        yield message.model_copy(update={"chunk_id": chunk_id})


def embedding_text(message: ChatMessage) -> str:
    """What is embedded for a message: the speaker's name inside the text, "Sender: text"."""
    return f"{message.sender}: {message.text}" if message.sender else message.text
