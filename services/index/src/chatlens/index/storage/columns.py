"""A segment's message records as columns: one Parquet file that analytics reads with DuckDB.

    segments/<id>/columns.parquet    one row per message, in the order of ``messages.jsonl``

Everything an aggregate needs is a column, computed once when the segment is written (word,
character and emoji counts, the media and link flags, the language, and what the language report
counts: ``storage.words``), so a query over a million messages never touches a Python object.

A segment written before this file existed gets its table built from its messages when it is
loaded, and a file of an older layout gets the columns added since: in memory, once per load (a
committed segment folder is never modified). What can be derived from the text is derived there,
as at ingest: the language (layouts 2 and 3; ``storage.languages``) and the words, emoji, link
domains and sentiment (layouts 2 to 4). What cannot (reactions and other names, before layout 3)
is left empty: its messages count as having no reactions and no other name.

Deriving them is slow at scale (the words of a million messages take seconds, their languages
minutes), so the table built for an older segment is kept between loads when the service gives
a cache folder (``storage.derived``): the next load reads it memory-mapped.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import regex

from chatlens.index.storage import atomic, derived, languages, words
from chatlens.shared.schemas import ChatMessage

COLUMNS = "columns.parquet"
# Bumped when a column is added: a file of an older layout is rebuilt on load like a missing one.
LAYOUT = b"5"
UPGRADABLE = (b"2", b"3", b"4")  # read with the columns added since (``upgraded``)
# A few hundred distinct values in a million rows: dictionary-encoded, in the file and in memory
# (a tenth of the memory, and DuckDB groups and filters them as integers).
NAME = pa.dictionary(pa.int32(), pa.string())
# A message's reactions (Telegram, Slack, Discord): each emoji, how many, and who where the
# platform names them (Telegram names a few recent ones only).
REACTIONS = pa.list_(
    pa.struct([("emoji", pa.string()), ("count", pa.int32()), ("users", pa.list_(pa.string()))])
)

SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("seq", pa.int64()),
        ("platform", NAME),
        ("chat", NAME),
        ("sender", NAME),
        ("sender_id", NAME),
        ("kind", NAME),
        ("sent_at", pa.timestamp("us", tz="UTC")),
        ("reply_to", pa.string()),
        ("thread_id", pa.string()),
        ("chunk_id", pa.string()),
        ("forwarded", pa.bool_()),
        ("chars", pa.int32()),
        ("words", pa.int32()),
        ("emojis", pa.int32()),
        ("edited", pa.bool_()),
        ("deleted", pa.bool_()),
        ("media", pa.bool_()),
        ("link", pa.bool_()),
        ("sender_alias", NAME),
        ("reactions", REACTIONS),
        ("language", NAME),  # ISO 639-1, detected at ingest (storage.languages); null: unknown
        *words.TYPES.items(),
        ("text", pa.string()),
    ],
    metadata={b"chatlens.columns": LAYOUT},
)

# A link as chat apps linkify one: a scheme or a leading "www.".
_LINK = regex.compile(r"(?i)\b(?:https?://|www\.)\S")


def has_link(text: str) -> bool:
    return _LINK.search(text) is not None


def table_of(messages: list[ChatMessage]) -> pa.Table:
    """The columns of ``messages``, one row each, in their order."""
    derived = words.columns_of([m.text for m in messages])
    # Each message's emoji are counted from their list (the ``emojis`` column).
    derived["emojis"] = pc.list_value_length(derived["emoji_list"]).fill_null(0).cast(pa.int32())
    data: dict[str, list] = {name: [] for name in SCHEMA.names if name not in derived}
    for m in messages:
        text = m.text
        data["message_id"].append(m.message_id)
        data["seq"].append(m.seq)
        data["platform"].append(m.platform)
        data["chat"].append(m.chat)
        data["sender"].append(m.sender)
        data["sender_id"].append(m.sender_id)
        data["kind"].append(m.kind)
        data["sent_at"].append(m.sent_at)
        data["reply_to"].append(m.reply_to)
        data["thread_id"].append(m.thread_id)
        data["chunk_id"].append(m.chunk_id)
        data["forwarded"].append(m.forwarded_from is not None)
        data["chars"].append(len(text))
        data["words"].append(len(text.split()))
        data["edited"].append(m.edited)
        data["deleted"].append(m.deleted or m.kind == "deleted")
        data["media"].append(m.kind == "media" or bool(m.attachments))
        data["link"].append(has_link(text))
        data["sender_alias"].append(m.sender_alias)
        data["reactions"].append(
            [{"emoji": r.emoji, "count": r.count, "users": r.users} for r in m.reactions]
        )
        data["language"].append(languages.detect(text) if m.kind == "text" else None)
        data["text"].append(text)
    names = {name for name in SCHEMA.names if SCHEMA.field(name).type == NAME}
    arrays = {
        name: pa.array(values, pa.string()).dictionary_encode()
        if name in names
        else pa.array(values, SCHEMA.field(name).type)
        for name, values in data.items()
    }
    return pa.Table.from_arrays([{**arrays, **derived}[n] for n in SCHEMA.names], schema=SCHEMA)


def upgraded(table: pa.Table) -> pa.Table:
    """A table of an older layout with this layout's columns: the language and the words
    derived from its text as at ingest, the others all nulls (no alias; no reactions, which
    every report reads as none)."""
    texts = table["text"].to_pylist()
    added = {} if set(words.FIELDS) <= set(table.column_names) else words.columns_of(texts)
    if "language" not in table.column_names:
        kinds = table["kind"].cast(pa.string()).to_pylist()
        detected = [
            languages.detect(text) if kind == "text" else None
            for text, kind in zip(texts, kinds, strict=True)
        ]
        added["language"] = pa.array(detected, pa.string()).dictionary_encode()
    arrays = [
        table[name]
        if name in table.column_names
        else added.get(name, pa.nulls(table.num_rows, SCHEMA.field(name).type))
        for name in SCHEMA.names
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def write(path: Path, messages: list[ChatMessage]) -> None:
    """Write ``path/columns.parquet`` atomically (temporary name, fsync, rename)."""
    with atomic.replacing(path / COLUMNS) as tmp:
        # zstd: text compresses about 3x and decodes faster than it reads from disk.
        pq.write_table(table_of(messages), tmp, compression="zstd")


def load(
    path: Path,
    messages: list[ChatMessage] | None = None,
    cache: Path | None = None,
    source: Path | None = None,
) -> pa.Table:
    """The segment's columns: its Parquet file (memory-mapped), or built from ``messages`` when
    the segment predates the file or has an older layout; with a ``cache`` folder, a table
    built here is kept there, and read from there next time. ``source`` is the file ``messages``
    were read from (what a cached table of a segment without the file is named by)."""
    file = path / COLUMNS
    table = pq.read_table(file, memory_map=True) if file.exists() else None
    layout = (table.schema.metadata or {}).get(b"chatlens.columns") if table is not None else None
    if layout == LAYOUT:
        return table
    upgradable = table if layout in UPGRADABLE else None
    if upgradable is None and messages is None:
        raise FileNotFoundError(f"segment {path}: no {COLUMNS} and no messages to build it")
    origin = file if upgradable is not None else source
    kept = derived.kept(cache, origin, f"-{LAYOUT.decode()}.parquet") if cache and origin else None
    if kept is not None and kept.exists():
        cached = pq.read_table(kept, memory_map=True)
        if (cached.schema.metadata or {}).get(b"chatlens.columns") == LAYOUT:
            return cached
    if upgradable is not None:
        built = upgraded(upgradable)
    else:
        assert messages is not None  # checked above
        built = table_of(messages)
    if kept is not None:
        buffer = io.BytesIO()
        pq.write_table(built, buffer, compression="zstd")
        derived.keep(kept, buffer.getvalue())
    return built
