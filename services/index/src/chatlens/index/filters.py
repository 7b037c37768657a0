"""Filters as boolean masks over a segment's messages, so both searches run on allowed rows only.

A segment keeps its messages' filterable fields as numpy columns (built once when it is loaded);
a filter becomes one vectorised comparison per field. The mask is then handed to faiss (an id
selector) and to the BM25 scoring, which is what makes a filtered search exact: the top-k of the
messages that pass, not the part of an unfiltered top-k that happens to pass.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from chatlens.index.text import normalise
from chatlens.shared.schemas import ChatMessage, SearchFilters


def _fold(value: str | None) -> str:
    return normalise(value) if value else ""


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:  # a naive time is taken as UTC, like the parsers store them
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


class Columns:
    """The filterable fields of a segment's messages, one array per field."""

    def __init__(self, messages: list[ChatMessage]) -> None:
        self.platform = np.array([_fold(m.platform) for m in messages], dtype=object)
        self.chat = np.array([_fold(m.chat) for m in messages], dtype=object)
        self.sender = np.array([_fold(m.sender) for m in messages], dtype=object)
        self.sender_id = np.array([m.sender_id or "" for m in messages], dtype=object)
        self.kind = np.array([m.kind for m in messages], dtype=object)
        self.sent_at = np.array([_epoch_us(m.sent_at) for m in messages], dtype=np.int64)

    def mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Rows passing every filter, or None when there is no filter (everything passes)."""
        if filters.empty:
            return None
        mask = np.ones(self.sent_at.size, dtype=bool)
        if filters.platform:
            mask &= np.isin(self.platform, [_fold(p) for p in filters.platform])
        if filters.chat:
            mask &= np.isin(self.chat, [_fold(c) for c in filters.chat])
        if filters.sender:
            names = np.isin(self.sender, [_fold(s) for s in filters.sender])
            mask &= names | np.isin(self.sender_id, list(filters.sender))
        if filters.kind:
            mask &= np.isin(self.kind, list(filters.kind))
        if filters.since is not None:
            mask &= self.sent_at >= _epoch_us(filters.since)
        if filters.until is not None:
            mask &= self.sent_at < _epoch_us(filters.until)
        return mask
