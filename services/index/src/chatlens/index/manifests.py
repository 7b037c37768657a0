"""Which manifest a reader searches: the latest committed one, or a pinned version's (cached).

Shared by search and the version RPCs. Only committed manifests are ever returned, so a reader
never sees a version being written.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.layout import Layout, is_safe_id
from chatlens.index.storage.manifest import Manifest
from chatlens.shared.bus import PermanentError


class ManifestReader:
    def __init__(self, layout: Layout, pinned_cache: int = 1024) -> None:
        self.layout = layout
        self._latest: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}
        self._pinned: OrderedDict[tuple[Path, int, int], Manifest] = OrderedDict()
        self._pinned_cache = pinned_cache
        self._lock = threading.Lock()

    def collection(self, org_id: str, collection_id: str) -> Collection:
        """The org's collection; the same answer for a malformed id, another org's, a missing one.

        The path is built from the org id, so a request can only ever reach its own org's shards.
        """
        if is_safe_id(org_id) and is_safe_id(collection_id):
            collection = Collection(self.layout.collection(org_id, collection_id))
            if collection.exists():
                return collection
        raise PermanentError(f"no collection {collection_id!r}", code="not_found")

    def manifest(self, collection: Collection, version: int | None) -> Manifest:
        latest = self.latest(collection)
        if version is None or version == latest.version:
            return latest
        if not 0 <= version < latest.version:
            raise PermanentError(f"no version {version}", code="version_not_found")
        # A purge replaces the whole repository (new segment ids in old versions): the .git
        # folder's inode tells the old repository's versions from the new one's.
        key = (collection.path, os.stat(collection.path / ".git").st_ino, version)
        with self._lock:
            pinned = self._pinned.get(key)
        if pinned is None:
            pinned = collection.manifest_at(version)
            if pinned is None:
                raise PermanentError(f"no version {version}", code="version_not_found")
            with self._lock:  # tagged versions never change, so they can be kept
                self._pinned[key] = pinned
                while len(self._pinned) > self._pinned_cache:
                    self._pinned.popitem(last=False)
        return pinned

    def latest(self, collection: Collection) -> Manifest:
        """The latest committed manifest, re-read only when the file changed."""
        stat = os.stat(collection.path / manifest_file.FILENAME)
        # The writer replaces the file by rename: a new inode even when the mtime ties.
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._latest.get(collection.path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            working = collection.manifest()
        except ValueError:  # read while a rollback rewrote it in place
            working = None
        if working is not None and collection.has_version(working.version):
            with self._lock:
                self._latest[collection.path] = (key, working)
            return working
        # A version being written right now (or interrupted): serve HEAD, and look again next time.
        return collection.head_manifest()
