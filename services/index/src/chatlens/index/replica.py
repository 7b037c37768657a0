"""What one index replica owns, and reloading it from disk when the replica (re)starts.

Replicas may share one INDEX_DIR (the local stack) or each have their own volume: a replica only
ever reads and writes the collections that ``topology.index_replica`` assigns to it, so the two
layouts behave the same. Everything a replica serves is on disk (Git repositories of immutable
segments); a restart loses only the segment cache, which :func:`warm` fills again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.layout import Layout, is_safe_id
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared import topology
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import Message

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Ownership:
    replica: int = 0
    replicas: int = 1

    def owns(self, collection_id: str) -> bool:
        return topology.index_replica(collection_id, self.replicas) == self.replica


def owned_collections(layout: Layout, ownership: Ownership) -> list[tuple[str, str]]:
    """(org id, collection id) of every collection on disk that this replica owns."""
    root = layout.root / "collections"
    if not root.is_dir():
        return []
    out = []
    for org in sorted(p for p in root.iterdir() if p.is_dir() and is_safe_id(p.name)):
        for path in sorted(org.iterdir()):
            if is_safe_id(path.name) and ownership.owns(path.name) and Collection(path).exists():
                out.append((org.name, path.name))
    return out


@dataclass(frozen=True)
class Warmed:
    collections: int
    segments: int
    messages: int


def warm(layout: Layout, segments: SegmentCache, ownership: Ownership) -> Warmed:
    """Load the latest committed version of every owned collection into ``segments``, until the
    cache is full. A collection that cannot be read is logged and skipped: it stays servable
    (or fails) on demand, like before the restart, and must not keep the others offline."""
    reader = ManifestReader(layout)
    collections = loaded = messages = 0
    for org_id, collection_id in owned_collections(layout, ownership):
        try:
            collection = reader.collection(org_id, collection_id)
            manifest = reader.latest(collection)
            for entry in manifest.segments:
                if loaded >= segments.capacity:
                    break
                segments.get(collection.segment_path(entry.id))
                loaded += 1
                messages += entry.messages
            collections += 1
        except Exception:  # noqa: BLE001 - one broken collection must not stop the replica
            log.exception("could not load a collection", extra={"collection_id": collection_id})
    warmed = Warmed(collections, loaded, messages)
    log.info(
        "shards loaded from disk",
        extra={"replica": ownership.replica, "replicas": ownership.replicas, **warmed.__dict__},
    )
    return warmed


def guarded(
    handler: Callable[[Message, Delivery], T], ownership: Ownership
) -> Callable[[Message, Delivery], T]:
    """``handler``, refusing a message naming a collection this replica does not own.

    Routing sends each collection's messages to its owner; a message that arrives elsewhere
    (publishers configured with another INDEX_REPLICAS) would otherwise create or read a second
    copy of the collection. Refused as ``wrong_replica``: dead-lettered, or an RPC error.
    """
    if ownership.replicas <= 1:
        return handler

    def handle(message: Message, delivery: Delivery) -> T:
        named = [getattr(message, "collection_id", None), *getattr(message, "collection_ids", [])]
        foreign = [cid for cid in named if cid is not None and not ownership.owns(cid)]
        if foreign:
            raise PermanentError(
                f"replica {ownership.replica} of {ownership.replicas} does not own {foreign[0]!r}",
                code="wrong_replica",
            )
        return handler(message, delivery)

    return handle
