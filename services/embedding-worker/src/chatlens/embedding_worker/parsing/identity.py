"""Who a chat is and which message is which, derived from content only.

A message's id must not depend on the file or the line it came from: two overlapping exports
of one chat hold the same messages at different lines, and must not add them twice.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from datetime import datetime
from pathlib import PurePath

_EXPORT_NAME = re.compile(r"^WhatsApp Chat (?:with|-) (?P<chat>.+)$", re.IGNORECASE)
# Browsers and phones append " (1)" to a file downloaded twice; it is still the same chat.
_COPY_SUFFIX = re.compile(r" \(\d+\)$")


def chat_name(filename: str, *, folder: bool = False) -> str:
    """The chat's name: from WhatsApp's "WhatsApp Chat with <name>.txt", else the file stem (the
    whole name of a ``folder``: "Marta 2.0/_chat.txt" is the chat "Marta 2.0")."""
    path = PurePath(filename.replace("\\", "/"))
    stem = _COPY_SUFFIX.sub("", path.name if folder else path.stem).strip()
    match = _EXPORT_NAME.match(stem)
    name = match["chat"].strip() if match else stem
    return name or "chat"


class MessageIdentity:
    """Hands out message ids for one file, in file order.

    The id hashes (platform, chat, UTC time, sender, text, n), where n counts the earlier
    messages of the same file with the same five values: two "ok"s in one minute stay two
    messages, and each gets the same id in any export that holds both.

    Only the last :attr:`WINDOW` distinct values are remembered, so memory stays flat however
    long the file: identical messages carry the same minute, and sit next to each other in a
    chat export, never a hundred thousand messages apart.
    """

    WINDOW = 100_000

    def __init__(self, platform: str, chat: str) -> None:
        self.platform, self.chat = platform, chat
        self._seen: OrderedDict[bytes, int] = OrderedDict()

    def next_id(self, sent_at: datetime, sender: str | None, text: str) -> str:
        fields = (self.platform, self.chat, sent_at.isoformat(), sender or "", text)
        # The unit separator cannot be typed into a chat, so field boundaries stay unambiguous.
        joined = "\x1f".join(fields)
        key = hashlib.sha256(joined.encode("utf-8")).digest()  # 32 bytes a remembered message
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        self._seen.move_to_end(key)
        if len(self._seen) > self.WINDOW:
            self._seen.popitem(last=False)
        return hashlib.sha256(f"{joined}\x1f{n}".encode()).hexdigest()
