"""Streaming JSON for exports too big to load: events with a depth limit and readable errors.

ijson (yajl's C backend) reads the file in blocks, so a 1 GB export costs one message's worth of
memory at a time. Around it: :class:`TolerantReader` rewrites the invalid ``\\xHH`` escapes some
Telegram Desktop versions write into valid ``\\u00HH`` ones, drops a BOM and counts the bytes read
(for error locations); :func:`events` refuses nesting deeper than any export has; and
:func:`collect` builds the objects found at given paths, one at a time, with their JSON path.
Duplicate keys are tolerated the way ``json`` does: the last one wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

from chatlens.embedding_worker.errors import NotAChatExport

MAX_DEPTH = 64
_BLOCK = 256 * 1024
# After an even number of backslashes (none escaped): a \xHH escape, or a \uD800-\uDFFF escape,
# alone or as the first half of a surrogate pair.
_ESCAPE = re.compile(
    rb"(?<!\\)((?:\\\\)*)\\(?:x([0-9A-Fa-f]{2})"
    rb"|(u[dD][89abAB][0-9A-Fa-f]{2}\\u[dD][c-fC-F][0-9A-Fa-f]{2}|u[dD][89a-fA-F][0-9A-Fa-f]{2}))"
)
# The longest escape that must be seen whole: a surrogate pair, \uD83D\uDC4D.
_LONGEST = 12


def _fix_escape(match: re.Match[bytes]) -> bytes:
    backslashes, hex_pair, surrogate = match.groups()
    if hex_pair is not None:
        return backslashes + b"\\u00" + hex_pair
    if len(surrogate) == 11:  # a whole pair: valid JSON, kept
        return match[0]
    # A lone surrogate cannot become UTF-8; yajl would emit bytes Python then cannot decode.
    return backslashes + b"\\ufffd"


_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})


class TolerantReader:
    """A binary reader that fixes ``\\xHH`` escapes on the fly and counts bytes read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._carry = b""
        self._first = True
        self.offset = 0  # bytes of the original stream consumed so far

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing first, to tell bytes from text
            return b""
        want = _BLOCK if size is None or size < 0 else max(size, 16)
        while True:
            block = self._raw.read(want)
            self.offset += len(block)
            if self._first:
                self._first = False
                if block.startswith(b"\xef\xbb\xbf"):
                    block = block[3:]
            data = self._carry + block
            if not block:  # the end: whatever was held back goes out as it is
                self._carry = b""
                break
            # Hold back an escape the block boundary may have cut: from the first backslash
            # among the last bytes (and the run of backslashes it belongs to).
            tail = data.find(b"\\", max(len(data) - _LONGEST, 0))
            cut = len(data) if tail < 0 else tail
            while 0 < cut < len(data) and data[cut - 1] == 0x5C:
                cut -= 1
            data, self._carry = data[:cut], data[cut:]
            if data:  # all held back: read on, so an empty result still means the end
                break
        if b"\\" in data:
            data = _ESCAPE.sub(_fix_escape, data)
        return data


def events(reader: TolerantReader, *, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, str, Any]]:
    """ijson's ``(prefix, event, value)`` stream, with malformed JSON as :class:`NotAChatExport`."""
    depth = 0
    prefix = ""
    try:
        for prefix, event, value in ijson.parse(reader, use_float=True):
            if event in _STARTS:
                depth += 1
                if depth > max_depth:
                    raise NotAChatExport(
                        f"the JSON nests deeper than {max_depth} levels",
                        reason="too_deep",
                        location=_where(prefix, reader),
                    )
            elif event in _ENDS:
                depth -= 1
            yield prefix, event, value
    except UnicodeDecodeError:
        raise NotAChatExport(
            "the JSON is not valid UTF-8", reason="invalid_utf8", location=_where(prefix, reader)
        ) from None
    except ijson.JSONError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed JSON"
        reason = (
            "truncated_json"
            if "premature EOF" in detail or "Incomplete" in detail
            else "invalid_json"
        )
        if "UTF8" in detail or "UTF-8" in detail:
            reason = "invalid_utf8"
        raise NotAChatExport(
            f"the JSON is malformed or truncated: {detail}",
            reason=reason,
            location=_where(prefix, reader),
        ) from None


def _where(prefix: str, reader: TolerantReader) -> str:
    path = "$" + ("." + prefix).replace(".item", "[]") if prefix else "$"
    return f"{path}, near byte {reader.offset}"


def collect(
    stream: Iterator[tuple[str, str, Any]],
    item_prefixes: frozenset[str],
    on_scalar: Callable[[str, Any], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> Iterator[tuple[str, int, Any]]:
    """``(prefix, index, value)`` of each array item found at one of ``item_prefixes``.

    ``prefix`` is ijson's (``"chats.list.item.messages.item"``), ``index`` the item's place in
    its array. Scalars outside those items go to ``on_scalar(prefix_with_key, value)``, and
    ``on_start(prefix)`` is told when an object starts outside them (a new chat in a list).
    """
    builder: ObjectBuilder | None = None
    depth, current = 0, ""
    counters: dict[str, int] = {}
    for prefix, event, value in stream:
        if builder is not None:
            builder.event(event, value)
            if event in _STARTS:
                depth += 1
            elif event in _ENDS:
                depth -= 1
            if depth == 0:
                yield current, counters[current] - 1, builder.value
                builder = None
            continue
        if prefix in item_prefixes:
            index = counters.get(prefix, 0)
            counters[prefix] = index + 1
            if event in _STARTS:
                builder, depth, current = ObjectBuilder(), 1, prefix
                builder.event(event, value)
            else:  # a scalar where an object was expected: still an item, for the parser to judge
                yield prefix, index, value
            continue
        if event == "start_map" and on_start is not None:
            on_start(prefix)
        elif event == "start_array":
            # A new array restarts the counts of items below it (messages of the next chat).
            for key in [k for k in counters if k.startswith(prefix + ".item") or k == prefix]:
                counters[key] = 0
        elif on_scalar is not None and event in ("string", "number", "boolean", "null"):
            on_scalar(prefix, value)


def count_items(raw: BinaryIO, item_prefixes: frozenset[str]) -> int:
    """First pass over a JSON export: checks all of it (syntax, UTF-8, depth) and counts items.

    Run before any message is handed out, so a truncated or malformed file fails the job before
    a single batch is published.
    """
    count = 0
    for prefix, event, _ in events(TolerantReader(raw)):
        if prefix in item_prefixes and event not in _ENDS and event != "map_key":
            count += 1
    return count
