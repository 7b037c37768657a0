"""A segment's message records, read when asked for instead of held as Python objects.

``messages.jsonl`` is memory-mapped and indexed by line: ``records[i]`` parses line i into a
:class:`ChatMessage` (about 15 µs) when search, context or browsing needs it, so a loaded segment
costs its file's pages (shared with the page cache, dropped under pressure) and an offset per
message, not a million pydantic objects (5.4 GiB at 1M). Whatever needs a field of every message
reads the segment's columns (``storage.columns``) instead.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from chatlens.shared.schemas import ChatMessage


class Records(Sequence[ChatMessage]):
    """The lines of a JSONL file as a read-only sequence of messages, parsed on access."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        data = np.frombuffer(self._map, dtype=np.uint8) if size else np.empty(0, np.uint8)
        ends = np.flatnonzero(data == ord("\n"))
        if size and (ends.size == 0 or ends[-1] != size - 1):
            ends = np.append(ends, size)  # a last line without its newline
        starts = np.concatenate(([0], ends[:-1] + 1)) if ends.size else ends
        keep = ends > starts  # blank lines are not records (as when the file was read whole)
        self._starts, self._ends = starts[keep], ends[keep]
        del data  # the map must not be exported while it may be closed

    def __len__(self) -> int:
        return int(self._starts.size)

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...

    @overload
    def __getitem__(self, index: slice) -> list[ChatMessage]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        line = self._map[int(self._starts[index]) : int(self._ends[index])]
        return ChatMessage.model_validate_json(line)

    def __iter__(self) -> Iterator[ChatMessage]:
        for i in range(len(self)):
            yield self[i]
