"""Helpers every parser shares: ids from native ids, times, clean text, the clock of an upload."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

from chatlens.embedding_worker.errors import UnsupportedUpload
from chatlens.embedding_worker.parsing.timestamps import Clock

# A lone surrogate cannot be encoded as UTF-8, so it would fail the message on the wire.
_SURROGATE = re.compile("[\ud800-\udfff]")


def native_message_id(platform: str, chat_key: str, native_id: str | int) -> str:
    """A message id from the platform's own id, unique across platforms and chats.

    Hashed so it is URL-safe and the same length as content-derived ids; the same native message
    in two overlapping exports gets the same id.
    """
    joined = f"{platform}\x1f{chat_key}\x1f{native_id}"
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def clean(text: object) -> str:
    """``text`` as a str that can travel: None is empty, lone surrogates become U+FFFD."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    return _SURROGATE.sub("\ufffd", value)


def clock_for(timezone: str | None) -> Clock:
    """The upload's clock, or :class:`UnsupportedUpload` for a zone name that is no IANA zone."""
    try:
        return Clock.for_upload(timezone)
    except LookupError as exc:
        raise UnsupportedUpload(str(exc)) from None


def from_unix(value: object) -> datetime:
    """An aware UTC datetime from seconds since the epoch (int, float or numeric string)."""
    return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]


def parse_time(text: str, clock: Clock, *, dayfirst: bool = False) -> tuple[datetime, bool]:
    """``(UTC time, had_offset)`` of a written timestamp; a naive one goes through ``clock``.

    Raises ``ValueError`` for text that is no timestamp.
    """
    value = text.strip()
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", value):  # unix seconds in a CSV column
        return from_unix(value), True
    try:
        parsed = dateutil_parser.isoparse(value)
    except (ValueError, OverflowError):
        try:
            parsed = dateutil_parser.parse(value, dayfirst=dayfirst)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"not a timestamp: {value[:40]!r}") from exc
    if parsed.tzinfo is None:
        return clock.to_utc(parsed), False
    return parsed.astimezone(UTC), True
