"""A version's live messages that pass the filters, as one Arrow table.

The same masks as search (:mod:`chatlens.index.filters` and the version's tombstones), applied to
each segment's columns; the tables are concatenated without copying (one chunk per segment). The
text and the language report's columns (``storage.words``) stay behind unless a report reads
them: the others use the counts computed when the segment was written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chatlens.index.people import identities
from chatlens.index.storage import words
from chatlens.index.storage.columns import SCHEMA
from chatlens.index.storage.segment import Segment
from chatlens.index.tombstones import Tombstones, both
from chatlens.shared.schemas import SearchFilters

# The columns every report reads; a report names the others it needs (``extra``).
FIELDS = [name for name in SCHEMA.names if name not in ("text", *words.FIELDS)]


def live_table(
    segments: list[Segment],
    deleted: frozenset[str],
    filters: SearchFilters,
    tombstones: Tombstones,
    extra: tuple[str, ...] = (),
) -> pa.Table:
    """The rows of ``segments`` that ``filters`` allow and ``deleted`` does not name, with the
    columns of ``FIELDS`` and ``extra`` (``text`` for mentions, ``storage.words.FIELDS`` for the
    language report)."""
    fields = [*FIELDS, *extra]
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
    """``table`` with each sender name of a person replaced by the person's name: in the sender
    column (only its dictionaries are rewritten: no row is touched) and among the names of who
    reacted (the strings under ``reactions``, mapped at once)."""
    if not people or table.num_rows == 0:
        return table
    person_of = {name: person for person, names in people.items() for name in names}
    at = table.schema.get_field_index("sender")
    chunks = []
    for chunk in table.column(at).chunks:
        values = [person_of.get(v, v) for v in chunk.dictionary.to_pylist()]
        chunks.append(pa.DictionaryArray.from_arrays(chunk.indices, pa.array(values, pa.string())))
    table = table.set_column(
        at, table.schema.field(at), pa.chunked_array(chunks, table.schema.field(at).type)
    )
    at = table.schema.get_field_index("reactions")
    column = table.column(at)
    renamed = [_reactors_as_people(chunk, person_of) for chunk in column.chunks]
    return table.set_column(at, table.schema.field(at), pa.chunked_array(renamed, column.type))


def _reactors_as_people(chunk: pa.ListArray, person_of: dict[str, str]) -> pa.ListArray:
    """A ``reactions`` chunk (list<struct<emoji, count, users: list<string>>>) with each name
    in ``users`` that ``person_of`` knows replaced by its person."""
    reactions = chunk.flatten()  # the structs of the chunk's rows, its slice applied
    if len(reactions) == 0:
        return chunk
    emoji, count, users = reactions.flatten()
    names = users.flatten()
    known = pa.array(list(person_of), pa.string())
    found = pc.index_in(names, value_set=known)
    persons = pa.array(list(person_of.values()), pa.string()).take(found)
    renamed_users = pa.ListArray.from_arrays(
        pc.subtract(users.offsets, users.offsets[0]),
        pc.coalesce(persons, names),
        type=users.type,
        mask=users.is_null(),
    )
    structs = pa.StructArray.from_arrays(
        [emoji, count, renamed_users], fields=list(reactions.type), mask=reactions.is_null()
    )
    return pa.ListArray.from_arrays(
        pc.subtract(chunk.offsets, chunk.offsets[0]), structs, type=chunk.type, mask=chunk.is_null()
    )
