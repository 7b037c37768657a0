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

    def _live(self, org_id: str, collection_id: str,
              version: int | None) -> tuple[int, list[Segment], set[str], int]:
        """The version, its segments and tombstones, and the repository's generation: a purge
        rewrites history under the same version numbers in a new ``.git`` (a new inode)."""
        collection = self.manifests.collection(org_id, collection_id)
        manifest = self.manifests.manifest(collection, version)
        segments = [self.segments.get(collection.segment_path(entry.id))
                    for entry in manifest.segments]
        generation = os.stat(collection.path / ".git").st_ino
        return manifest.version, segments, set(manifest.tombstones), generation

    def messages(self, request: MessagesListRequested) -> MessagesListed:
        """The passing messages in (sent_at, chat, seq) order, the first ``limit`` of them."""
        version, segments, tombstones, _ = self._live(request.org_id, request.collection_id,
                                                      request.version)
        passing: list[ChatMessage] = []
        seen: set[str] = set()
        for segment in segments:
            mask = segment.columns.mask(request.filters)
            rows = range(len(segment.messages)) if mask is None else np.flatnonzero(mask)
            for row in rows:
                message = segment.messages[int(row)]
                # A message id is content-derived: the same message twice is one message.
                if message.message_id in tombstones or message.message_id in seen:
                    continue
                seen.add(message.message_id)
                passing.append(message)
        passing.sort(key=lambda m: (m.sent_at, m.chat, m.seq, m.message_id))
        return MessagesListed(version=version, total=len(passing),
                              messages=passing[:request.limit])

    def message(self, request: MessageRequested) -> MessageFound:
        """The message and up to ``context`` live messages of its chat before and after it.

        A chat's messages may lie in several segments (one per upload): its neighbours are
        gathered from all of them, in (sent_at, seq) order. Unknown or deleted: ``not_found``.
        """
        version, segments, tombstones, _ = self._live(request.org_id, request.collection_id,
                                                      request.version)
        found = None if request.message_id in tombstones else _find(segments, request.message_id)
        if found is None:
            raise PermanentError(f"no message {request.message_id!r} in version {version}",
                                 code="message_not_found")
        chat = SearchFilters(chat=[found.chat])
        thread: dict[str, ChatMessage] = {}
        for segment in segments:
            mask = segment.columns.mask(chat)
            rows = range(len(segment.messages)) if mask is None else np.flatnonzero(mask)
            for row in rows:
                message = segment.messages[int(row)]
                if message.chat == found.chat and message.message_id not in tombstones:
                    thread.setdefault(message.message_id, message)
        ordered = sorted(thread.values(), key=lambda m: (m.sent_at, m.seq, m.message_id))
        place = next(i for i, m in enumerate(ordered) if m.message_id == found.message_id)
        n = request.context
        return MessageFound(version=version, message=found,
                            before=ordered[max(0, place - n):place] if n else [],
                            after=ordered[place + 1:place + 1 + n])

    def facets(self, request: FacetsRequested) -> FacetsListed:
        """Every chat and sender with its message count, most messages first."""
        version, segments, tombstones, generation = self._live(
            request.org_id, request.collection_id, request.version)
        key = (request.org_id, request.collection_id, version, generation)
        with self._lock:
            cached = self._facets.get(key)
            if cached is not None:
                self._facets.move_to_end(key)
        if cached is not None:
            return FacetsListed(version=version, chats=cached[0], senders=cached[1])
        chats: Counter[str] = Counter()
        senders: Counter[str] = Counter()
        for segment in segments:
            for message in segment.messages:
                if message.message_id in tombstones:
                    continue
                chats[message.chat] += 1
                if message.sender:
                    senders[message.sender] += 1
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


def _counts(counter: Counter[str]) -> list[FacetCount]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:MAX_FACETS]
    return [FacetCount(value=value, count=count) for value, count in ranked]
