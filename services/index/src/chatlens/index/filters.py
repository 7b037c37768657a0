"""Filters as boolean masks over a segment's messages, so both searches run on allowed rows only.

A segment keeps its messages' filterable fields as numpy columns (built once when it is loaded);
a filter becomes one vectorised comparison per field. The mask is then handed to faiss (an id
selector) and to the BM25 scoring, which is what makes a filtered search exact: the top-k of the
messages that pass, not the part of an unfiltered top-k that happens to pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chatlens.index.text import normalise
from chatlens.shared.schemas import ChatMessage, SearchFilters


def _fold(value: str | None) -> str:
    return normalise(value) if value else ""


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:  # a naive time is taken as UTC, like the parsers store them
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


class Codes:
    """One text field as integer codes, one per distinct value. Comparing small integers is what
    keeps a mask over a million rows at a millisecond (``np.isin`` over Python strings took
    about 10 ms per 100k rows). With ``fold``, values are compared folded (case, accents), and
    each distinct value is folded once: a million messages name a few hundred chats and senders
    (folding every message's fields took a quarter of a 250k segment's load)."""

    def __init__(self, values: Iterable[str], fold: Callable[[str], str] | None = None) -> None:
        distinct: dict[str, int] = {}
        codes = np.fromiter((distinct.setdefault(v, len(distinct)) for v in values), dtype=np.int32)
        if fold is None:
            self.lookup, self.codes = distinct, codes
            return
        self.lookup = {}
        folded = np.fromiter(
            (self.lookup.setdefault(fold(v), len(self.lookup)) for v in distinct),
            dtype=np.int32,
            count=len(distinct),
        )
        self.codes = folded[codes]

    @classmethod
    def of_column(cls, column: pa.ChunkedArray, fold: Callable[[str], str] | None = None) -> Codes:
        """The codes of a dictionary-encoded Arrow column (a segment's ``storage.columns``),
        a null read as ""; each chunk's few distinct values are looked at once, not each row."""
        self = cls([], fold)
        parts = []
        for chunk in column.chunks:
            values = ["" if v is None else v for v in chunk.dictionary.to_pylist()]
            mapping = np.array(
                [self.lookup.setdefault(fold(v) if fold else v, len(self.lookup)) for v in values]
                or [0],
                dtype=np.int32,
            )
            empty = self.lookup.setdefault(fold("") if fold else "", len(self.lookup))
            indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            parts.append(np.where(indices >= 0, mapping[np.maximum(indices, 0)], empty))
        self.codes = np.concatenate(parts).astype(np.int32) if parts else np.empty(0, np.int32)
        return self

    def isin(self, wanted: list[str]) -> np.ndarray:
        found = [self.lookup[value] for value in wanted if value in self.lookup]
        return np.isin(self.codes, found)


class Columns:
    """The filterable fields of a segment's messages, one array per field."""

    def __init__(self, messages: list[ChatMessage]) -> None:
        self.platform = Codes((m.platform for m in messages), _fold)
        self.chat = Codes((m.chat for m in messages), _fold)
        self.sender = Codes((m.sender or "" for m in messages), _fold)
        self.sender_id = Codes(m.sender_id or "" for m in messages)
        self.kind = Codes(m.kind for m in messages)
        self.language = Codes("" for _ in messages)  # detected at ingest only: none known
        self.sent_at = np.array([_epoch_us(m.sent_at) for m in messages], dtype=np.int64)

    @classmethod
    def of_table(cls, table: pa.Table) -> Columns:
        """The same columns from a segment's Arrow table, without a message object."""
        self = cls.__new__(cls)
        self.platform = Codes.of_column(table["platform"], _fold)
        self.chat = Codes.of_column(table["chat"], _fold)
        self.sender = Codes.of_column(table["sender"], _fold)
        self.sender_id = Codes.of_column(table["sender_id"])
        self.kind = Codes.of_column(table["kind"])
        self.language = Codes.of_column(table["language"], _fold)
        self.sent_at = table["sent_at"].cast(pa.int64()).to_numpy()
        return self

    def mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Rows passing every filter, or None when there is no filter (everything passes)."""
        if filters.empty:
            return None
        mask = np.ones(self.sent_at.size, dtype=bool)
        if filters.platform:
            mask &= self.platform.isin([_fold(p) for p in filters.platform])
        if filters.chat:
            mask &= self.chat.isin([_fold(c) for c in filters.chat])
        if filters.sender:
            names = self.sender.isin([_fold(s) for s in filters.sender])
            mask &= names | self.sender_id.isin(list(filters.sender))
        if filters.kind:
            mask &= self.kind.isin(list(filters.kind))
        if filters.language:  # "" (no language known) is never a code asked for
            mask &= self.language.isin([_fold(code) for code in filters.language])
        if filters.since is not None:
            mask &= self.sent_at >= _epoch_us(filters.since)
        if filters.until is not None:
            mask &= self.sent_at < _epoch_us(filters.until)
        if filters.hours or filters.weekdays:
            mask &= self._slot(filters)
        return mask

    def _slot(self, filters: SearchFilters) -> np.ndarray:
        """Rows whose local hour and weekday (in ``filters.timezone``, daylight saving time
        included: Arrow converts with the zone database) are among those asked for."""
        local = pa.array(self.sent_at, pa.timestamp("us", tz="UTC")).cast(
            pa.timestamp("us", tz=filters.timezone)
        )
        passing = np.ones(self.sent_at.size, dtype=bool)
        if filters.hours:
            passing &= np.isin(pc.hour(local).to_numpy(zero_copy_only=False), filters.hours)
        if filters.weekdays:  # Arrow's day_of_week counts from Monday 0, as the heatmap does
            passing &= np.isin(
                pc.day_of_week(local).to_numpy(zero_copy_only=False), filters.weekdays
            )
        return passing
