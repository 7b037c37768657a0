"""A version's live messages that pass the filters, as one Arrow table.

The same masks as search (:mod:`chatlens.index.filters` and the version's tombstones), applied to
each segment's columns; the tables are concatenated without copying (one chunk per segment). The
text column stays behind unless a report reads it: the others use the counts computed when the
segment was written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from chatlens.index.storage.columns import SCHEMA
from chatlens.index.storage.segment import Segment
from chatlens.index.tombstones import Tombstones, both
from chatlens.shared.schemas import SearchFilters

FIELDS = [name for name in SCHEMA.names if name != "text"]


def live_table(segments: list[Segment], deleted: frozenset[str], filters: SearchFilters,
               tombstones: Tombstones, text: bool = False) -> pa.Table:
    """The rows of ``segments`` that ``filters`` allow and ``deleted`` does not name; with the
    text column when ``text`` (the reports that read words, emoji, links and mentions)."""
    fields = [*FIELDS, "text"] if text else FIELDS
    parts = []
    for segment in segments:
        mask = both(segment.columns.mask(filters), tombstones.alive(segment, deleted))
        # Metadata differs between a file's table and one built in memory; concat wants equal.
        table = segment.table.select(fields).replace_schema_metadata(None)
        if mask is not None:
            if not mask.any():
                continue
            if not mask.all():
                table = table.filter(pa.array(np.asarray(mask, dtype=bool)))
        parts.append(table)
    if not parts:
        return SCHEMA.empty_table().select(fields).replace_schema_metadata(None)
    return pa.concat_tables(parts)
