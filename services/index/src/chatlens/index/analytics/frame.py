"""A version's live messages that pass the filters, as one Arrow table.

The same masks as search (:mod:`chatlens.index.filters` and the version's tombstones), applied to
each segment's columns; the tables are concatenated without copying (one chunk per segment). The
text column stays behind unless a report reads it: the others use the counts computed when the
segment was written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from chatlens.index.people import identities
from chatlens.index.storage.columns import SCHEMA
from chatlens.index.storage.segment import Segment
from chatlens.index.tombstones import Tombstones, both
from chatlens.shared.schemas import SearchFilters

FIELDS = [name for name in SCHEMA.names if name != "text"]


def live_table(
    segments: list[Segment],
    deleted: frozenset[str],
    filters: SearchFilters,
    tombstones: Tombstones,
    text: bool = False,
) -> pa.Table:
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


def with_people(filters: SearchFilters, people: dict[str, list[str]]) -> SearchFilters:
    """``filters`` where a ``sender`` naming a person also selects the person's names, and a
    ``person`` filter is the sender names of those people (within ``sender`` when both are
    given), as search reads it (``chatlens.index.people.identities``)."""
    if filters.person:
        names = identities(people, filters.person)
        if filters.sender:
            given = {
                n.casefold()
                for n in with_people(filters.model_copy(update={"person": []}), people).sender
            }
            names = [n for n in names if n.casefold() in given]
        # Nothing in common: a name no sender has, so nothing passes (an empty list would
        # mean "any sender").
        return filters.model_copy(update={"person": [], "sender": names or ["\x00"]})
    if not people or not filters.sender:
        return filters
    wanted = {name.casefold() for name in filters.sender}
    extra = [n for person, names in people.items() if person.casefold() in wanted for n in names]
    if not extra:
        return filters
    return filters.model_copy(update={"sender": [*filters.sender, *extra]})


def as_people(table: pa.Table, people: dict[str, list[str]]) -> pa.Table:
    """``table`` with each sender name of a person replaced by the person's name (only the
    dictionaries of the sender column are rewritten: no row is touched)."""
    if not people or table.num_rows == 0:
        return table
    person_of = {name: person for person, names in people.items() for name in names}
    at = table.schema.get_field_index("sender")
    chunks = []
    for chunk in table.column(at).chunks:
        values = [person_of.get(v, v) for v in chunk.dictionary.to_pylist()]
        chunks.append(pa.DictionaryArray.from_arrays(chunk.indices, pa.array(values, pa.string())))
    return table.set_column(
        at, table.schema.field(at), pa.chunked_array(chunks, table.schema.field(at).type)
    )
