"""Reading a collection without a query: the messages of a chat or time window, and its facets.

Summaries read a window's messages in time order (``index.messages``); the gateway recognises a
question's own filters ("what did Alice say in #ops") against the collection's real chats and
senders (``index.facets``); a citation or a hit opens as one message with its neighbours in
its chat, across every live segment (``index.message``). All read committed manifests and
immutable segments only, apply the same filter masks as search (:mod:`chatlens.index.filters`),
and skip tombstoned messages.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, OrderedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chatlens.index.analytics.frame import with_people
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.segment import Segment, SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    ChatMessage,
    FacetCount,
    FacetsListed,
    FacetsRequested,
    MessageFound,
    MessageRequested,
    MessagesListed,
    MessagesListRequested,
    SearchFilters,
)

MAX_FACETS = 500  # per field: a question names a chat or a person, not one of thousands
# Versions whose facets are kept: every /ask reads them, and a version never changes.
FACET_CACHE = 256


class Browser:
    """Answers MessagesListRequested and FacetsRequested; safe to share between RPC threads."""

    def __init__(self, manifests: ManifestReader, segments: SegmentCache) -> None:
        self.manifests, self.segments = manifests, segments
        self._facets: OrderedDict[tuple[str, str, int, int], tuple[list, list]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(
        self, org_id: str, collection_id: str, version: int | None
    ) -> tuple[int, list[Segment], set[str], int]:
        """The version, its segments and tombstones, and the repository's generation: a purge
        rewrites history under the same version numbers in a new ``.git`` (a new inode)."""
        collection = self.manifests.collection(org_id, collection_id)
        manifest = self.manifests.manifest(collection, version)
        segments = [
            self.segments.get(collection.segment_path(entry.id)) for entry in manifest.segments
        ]
        generation = os.stat(collection.path / ".git").st_ino
        return manifest.version, segments, set(manifest.tombstones), generation

    def messages(self, request: MessagesListRequested) -> MessagesListed:
        """The passing messages in (sent_at, chat, seq) order, the first ``limit`` of them."""
        version, segments, tombstones, _ = self._live(
            request.org_id, request.collection_id, request.version
        )
        filters = request.filters
        if filters.person:  # the person's sender names in the version read, as search does
            collection = self.manifests.collection(request.org_id, request.collection_id)
            filters = with_people(filters, self.manifests.manifest(collection, version).people)
        passing = _candidates(segments, [s.columns.mask(filters) for s in segments], tombstones)
        ordered = passing.sort_by(
            [
                ("sent_at", "ascending"),
                ("chat", "ascending"),
                ("seq", "ascending"),
                ("message_id", "ascending"),
            ]
        )
        return MessagesListed(
            version=version,
            total=ordered.num_rows,
            messages=_parsed(segments, ordered.slice(0, request.limit)),
        )

    def message(self, request: MessageRequested) -> MessageFound:
        """The message and up to ``context`` live messages of its chat before and after it.

        A chat's messages may lie in several segments (one per upload): its neighbours are
        gathered from all of them, in (sent_at, seq) order. Unknown or deleted: ``not_found``.
        """
        version, segments, tombstones, _ = self._live(
            request.org_id, request.collection_id, request.version
        )
        found = None if request.message_id in tombstones else _find(segments, request.message_id)
        if found is None:
            raise PermanentError(
                f"no message {request.message_id!r} in version {version}", code="message_not_found"
            )
        chat = SearchFilters(chat=[found.chat])
        # The filter folds case and accents; the thread is this exact chat.
        masks = [
            _and(
                s.columns.mask(chat),
                pc.equal(s.table["chat"].cast(pa.string()), found.chat).to_numpy(
                    zero_copy_only=False
                ),
            )
            for s in segments
        ]
        thread = _candidates(segments, masks, tombstones).sort_by(
            [("sent_at", "ascending"), ("seq", "ascending"), ("message_id", "ascending")]
        )
        place = thread["message_id"].to_pylist().index(found.message_id)
        n = request.context
        before = (
            thread.slice(max(0, place - n), place - max(0, place - n)) if n else thread.slice(0, 0)
        )
        return MessageFound(
            version=version,
            message=found,
            before=_parsed(segments, before),
            after=_parsed(segments, thread.slice(place + 1, n)),
        )

    def facets(self, request: FacetsRequested) -> FacetsListed:
        """Every chat and sender with its message count, most messages first."""
        version, segments, tombstones, generation = self._live(
            request.org_id, request.collection_id, request.version
        )
        key = (request.org_id, request.collection_id, version, generation)
        with self._lock:
            cached = self._facets.get(key)
            if cached is not None:
                self._facets.move_to_end(key)
        if cached is not None:
            return FacetsListed(version=version, chats=cached[0], senders=cached[1])
        chats: Counter[str] = Counter()
        senders: Counter[str] = Counter()
        live = _candidates(segments, [None] * len(segments), tombstones, ("chat", "sender"))
        for name, counter in (("chat", chats), ("sender", senders)):
            for row in pc.value_counts(live[name].cast(pa.string())).to_pylist():
                if row["values"] or (name == "chat" and row["values"] is not None):
                    counter[row["values"]] += row["counts"]
        counted = (_counts(chats), _counts(senders))
        with self._lock:
            self._facets[key] = counted
            while len(self._facets) > FACET_CACHE:
                self._facets.popitem(last=False)
        return FacetsListed(version=version, chats=counted[0], senders=counted[1])


def _find(segments: list[Segment], message_id: str) -> ChatMessage | None:
    for segment in segments:
        try:
            return segment.messages[segment.position_of(message_id)]
        except KeyError:
            continue
    return None


def _and(first: np.ndarray | None, second: np.ndarray) -> np.ndarray:
    return second if first is None else first & second


def _candidates(
    segments: list[Segment],
    masks: list[np.ndarray | None],
    tombstones: set[str],
    fields: tuple[str, ...] = ("sent_at", "chat", "seq"),
) -> pa.Table:
    """The rows of each segment its mask allows, not deleted, each message id once (the first
    segment's): ``fields``, ``message_id``, and where it lies (``segment``, ``row``). From the
    columns, so no message is parsed until the caller knows which it returns."""
    parts = []
    for number, (segment, mask) in enumerate(zip(segments, masks, strict=True)):
        rows = np.arange(segment.table.num_rows) if mask is None else np.flatnonzero(mask)
        part = segment.table.select([*fields, "message_id"]).take(rows)
        parts.append(
            part.append_column("segment", pa.array(np.full(rows.size, number))).append_column(
                "row", pa.array(rows.astype(np.int64))
            )
        )
    if not parts:
        return pa.table({name: [] for name in (*fields, "message_id", "segment", "row")})
    table = pa.concat_tables(
        [p.replace_schema_metadata(None) for p in parts], promote_options="permissive"
    )
    table = table.select([*fields, "message_id", "segment", "row"])
    if tombstones:
        table = table.filter(
            pc.invert(pc.is_in(table["message_id"], pa.array(list(tombstones), pa.string())))
        )
    if len(segments) > 1:  # a message id is content-derived: the same message twice is one
        order = pa.array(np.arange(table.num_rows))
        first = (
            table.append_column("order", order)
            .group_by("message_id")
            .aggregate([("order", "min")])["order_min"]
        )
        table = table.take(pc.sort_indices(first))
    if "chat" in fields:
        table = table.set_column(
            table.schema.get_field_index("chat"), "chat", table["chat"].cast(pa.string())
        )
    return table


def _parsed(segments: list[Segment], rows: pa.Table) -> list[ChatMessage]:
    """The messages ``rows`` (from :func:`_candidates`) name, parsed, in their order."""
    return [
        segments[number].messages[row]
        for number, row in zip(rows["segment"].to_pylist(), rows["row"].to_pylist(), strict=True)
    ]


def _counts(counter: Counter[str]) -> list[FacetCount]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:MAX_FACETS]
    return [FacetCount(value=value, count=count) for value, count in ranked]
