"""Deleting messages: one chat, one upload, or every message of one sender; and purging them.

A deletion tombstones the selected messages in a new version (segments are immutable), so older
versions still show them and restoring one brings them back. A purge also rewrites the history
(``storage.history``) so that no version, and no Git object, holds them any more.

Selectors match like search filters do (``chatlens.index.filters``: names case- and
accent-folded, a sender by display name or sender id); an upload is the messages its job added,
read from the version that sealed it (a later compaction does not lose them). Commit messages
name what kind of thing was deleted and how many messages, never the chat or person: they
outlive a purge of the messages themselves.

Idempotent: the request's id is recorded with the new version (like a job's), so a redelivered
request is answered from the record; deleting what is already deleted changes nothing
(``removed`` 0, no new version). A name the version has never held is ``*_not_found``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from chatlens.index.ingest import Ingestor
from chatlens.index.storage import history
from chatlens.index.storage.collection import Collection, tag_name
from chatlens.index.storage.layout import is_safe_id
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import Segment, SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import MessagesDeleted, MessagesDeleteRequested, SearchFilters

log = logging.getLogger(__name__)

Select = Callable[[Segment], set[str]]


class Deleter:
    """Answers MessagesDeleteRequested; takes the ingestor's writer lock (one writer)."""

    def __init__(self, segments: SegmentCache, ingestor: Ingestor) -> None:
        self.segments, self.ingestor = segments, ingestor

    def delete(self, request: MessagesDeleteRequested) -> MessagesDeleted:
        kind = (
            "chat"
            if request.chat is not None
            else "sender"
            if request.sender is not None
            else "upload"
        )
        with self.ingestor.lock:
            collection = self.ingestor.open_for_writing(request.org_id, request.collection_id)
            if collection is None:
                raise PermanentError(f"no collection {request.collection_id!r}", code="not_found")
            history.clean_aside(collection.path)  # what an interrupted purge left
            with tempfile.TemporaryDirectory(
                prefix=f"{history.ASIDE}{collection.path.name}-", dir=collection.path.parent
            ) as scratch:
                return self._delete(request, kind, collection, Path(scratch))

    def _delete(
        self, request: MessagesDeleteRequested, kind: str, collection: Collection, scratch: Path
    ) -> MessagesDeleted:
        current = collection.manifest()
        recorded = request.id in current.jobs
        select = self._selector(request, collection, current, scratch)
        if select is None:
            raise PermanentError(
                f"no upload {request.job_id!r} in this collection", code="upload_not_found"
            )
        matched: set[str] = set()
        for entry in current.segments:
            matched |= select(self.segments.get(collection.segment_path(entry.id)))
        removed = matched - set(current.tombstones)
        load = self._loader(collection, scratch)
        purge: set[str] = set()
        if request.purge:
            for sid, tree in history.segment_folders(collection.git):
                purge |= select(load(sid, tree))
        if recorded:  # redelivered: the version exists; a purge cut short is finished
            rewrite = self._purge(collection, purge, load) if purge else None
            return self._answer(Collection(collection.path), request.id, rewrite)
        if not (matched or purge or (kind == "upload" and request.job_id in current.jobs)):
            raise PermanentError(f"the collection has no such {kind}", code=f"{kind}_not_found")
        if not removed and not purge:
            return MessagesDeleted(version=current.version, removed=0)
        stats = {
            "deleted": kind,
            "removed": len(removed),
            "purge": request.purge,
            "purged": len(purge),
        }
        summary = (
            f"deleted {'and purged ' if purge else ''}{kind}: {len(removed)} messages "
            f"removed" + (f", {len(purge)} purged from every version" if purge else "")
        )
        try:
            new = collection.delete_messages(request.id, removed, stats, summary)
        except BaseException:
            self.ingestor.needs_recovery(collection)  # rolled back before the next write
            raise
        log.info(
            "messages deleted",
            extra={
                "collection_id": request.collection_id,
                "version": new.version,
                "selector": kind,
                **stats,
            },
        )
        rewrite = self._purge(collection, purge, load) if purge else None
        return MessagesDeleted(
            version=new.version,
            removed=len(removed),
            purged=len(rewrite.purged) if rewrite else 0,
            rewritten=rewrite.rewritten if rewrite else 0,
        )

    def _purge(
        self, collection: Collection, purge: set[str], load: history.Loader
    ) -> history.Rewrite:
        rewrite = history.rewrite_without(collection.path, purge, load)
        for segment_id, _ in rewrite.segments:  # their folders are gone: so goes their text
            self.segments.discard(collection.segment_path(segment_id))
        return rewrite

    def _answer(
        self, collection: Collection, deletion_id: str, rewrite: history.Rewrite | None
    ) -> MessagesDeleted:
        stats = collection.job_stats(deletion_id)
        return MessagesDeleted(
            version=collection.manifest().jobs[deletion_id],
            removed=stats["removed"],
            purged=stats["purged"],
            rewritten=rewrite.rewritten if rewrite else 0,
        )

    def _selector(
        self,
        request: MessagesDeleteRequested,
        collection: Collection,
        current: Manifest,
        scratch: Path,
    ) -> Select | None:
        if request.chat is not None or request.sender is not None:
            filters = SearchFilters(
                chat=[request.chat] if request.chat is not None else [],
                sender=[request.sender] if request.sender is not None else [],
            )
            return lambda segment: _ids_where(segment, filters)
        assert request.job_id is not None
        if not is_safe_id(request.job_id) or request.job_id not in current.jobs:
            return None
        ids = self._upload_ids(collection, current, request.job_id, scratch)
        return lambda segment: segment.message_ids & ids

    def _upload_ids(
        self, collection: Collection, current: Manifest, job_id: str, scratch: Path
    ) -> set[str]:
        """The messages ``job_id`` added: its segment in the version that sealed it."""
        version = current.jobs[job_id]
        sealed = current if version == current.version else collection.manifest_at(version)
        ids: set[str] = set()
        for entry in sealed.segments if sealed is not None else []:
            if entry.job_id != job_id:
                continue
            tree = history.tree_folders(collection.git, f"refs/tags/{tag_name(version)}").get(
                entry.id
            )
            if tree is not None:
                ids |= self._loader(collection, scratch)(entry.id, tree).message_ids
        return ids

    def _loader(self, collection: Collection, scratch: Path) -> history.Loader:
        """Loads a segment folder of any version: from the working tree (and the cache) when it
        is there (segment ids are never reused for other content), else from Git."""

        def load(segment_id: str, tree: str) -> Segment:
            path = collection.segment_path(segment_id)
            if path.is_dir():
                return self.segments.get(path)
            return history.load_folder(collection.git, tree, scratch)

        return load


def _ids_where(segment: Segment, filters: SearchFilters) -> set[str]:
    mask = segment.columns.mask(filters)
    assert mask is not None  # a selector is never an empty filter
    ids = segment.ids()
    return {ids[int(i)] for i in mask.nonzero()[0]}
