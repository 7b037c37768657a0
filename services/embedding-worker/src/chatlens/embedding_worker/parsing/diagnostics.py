"""What a parse found, for the job's stats and ``chatlens parse``: one shape for every format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from chatlens.shared.schemas import ChatMessage

T = TypeVar("T")
# What a record of unexpected shape raises while being read (a list where a string belongs...).
MALFORMED = (ValidationError, TypeError, ValueError, AttributeError, KeyError)

MAX_SKIPPED_EXAMPLES = 20


@dataclass
class Diagnostics:
    """Counts filled while the messages stream; complete once they are exhausted.

    ``details`` holds what only some formats know (WhatsApp's date order and clock, the number
    of chats in a Telegram account export, ...).
    """

    format: str
    tz_assumption: str
    variant: str | None = None
    messages: int = 0
    system_events: int = 0
    media: int = 0
    deleted: int = 0
    edited: int = 0
    skipped_lines: int = 0
    skipped_examples: list[dict[str, Any]] = field(default_factory=list)
    chats: set[str] = field(default_factory=set)
    details: dict[str, Any] = field(default_factory=dict)

    def skip(self, where: int | str, reason: str) -> None:
        """Record one line (an int) or JSON path / archive entry (a str) that was left out."""
        self.skipped_lines += 1
        if len(self.skipped_examples) < MAX_SKIPPED_EXAMPLES:
            key = "line" if isinstance(where, int) else "path"
            self.skipped_examples.append({key: where, "reason": reason})

    def attempt(self, where: int | str, build: Callable[..., T], *args: Any) -> T | None:
        """``build(*args)``, or None with the record reported as skipped if it is malformed."""
        try:
            return build(*args)
        except MALFORMED as exc:
            detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
            self.skip(where, f"malformed record ({type(exc).__name__}: {detail})")
            return None

    def count(self, message: ChatMessage) -> ChatMessage:
        """Tally one message on its way out; returns it, so it can wrap a ``yield``."""
        self.messages += 1
        self.system_events += message.kind in ("system", "service")
        self.media += message.kind == "media" or bool(message.attachments)
        self.deleted += message.kind == "deleted" or message.deleted
        self.edited += message.edited
        self.chats.add(message.chat)
        return message

    def as_stats(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "variant": self.variant,
            **self.details,
            "tz_assumption": self.tz_assumption,
            "messages": self.messages,
            "system_events": self.system_events,
            "media": self.media,
            "deleted": self.deleted,
            "edited": self.edited,
            "chats": len(self.chats),
            "skipped_lines": self.skipped_lines,
            "skipped_examples": list(self.skipped_examples),
        }
