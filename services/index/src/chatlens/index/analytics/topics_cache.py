"""Computed topics on the index's disk, one JSON file per (collection, version, parameters).

    <INDEX_DIR>/cache/topics/<org_id>/<collection_id>/<repository>-<key>.json

``key`` hashes what the result depends on: the version's manifest (its segments, tombstones and
people: a purge rewrites old versions, so a number alone would not do), the filters, the time
zone and the parameters. ``repository`` is the collection's ``.git`` inode: a purge replaces the
repository, and writing the next result removes every file of the old one, so purged text does
not outlive it here (deleting the collection removes the folder: ``Cleaner``). Files are written
atomically (``storage.atomic``): a job that fails leaves none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from chatlens.index.storage import atomic
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.manifest import Manifest
from chatlens.shared.schemas import SearchFilters, TopicsParams

# Bumped when the result's shape changes: older files are then simply not found.
LAYOUT = 1


def key_of(manifest: Manifest, filters: SearchFilters, timezone: str, params: TopicsParams) -> str:
    what = {
        "layout": LAYOUT,
        "version": manifest.version,
        "segments": [entry.id for entry in manifest.segments],
        "tombstones": manifest.tombstones,
        "people": manifest.people,
        "filters": filters.model_dump(mode="json"),
        "timezone": timezone,
        "params": params.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()[:32]


class TopicsCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, org_id: str, collection_id: str) -> Path:
        return self.root / org_id / collection_id  # ids checked by ManifestReader.collection

    @staticmethod
    def _repository(collection: Collection) -> str:
        return str(os.stat(collection.path / ".git").st_ino)

    def _path(self, org_id: str, collection: Collection, key: str) -> Path:
        name = f"{self._repository(collection)}-{key}.json"
        return self.folder(org_id, collection.path.name) / name

    def read(self, org_id: str, collection: Collection, key: str) -> dict | None:
        try:
            return json.loads(self._path(org_id, collection, key).read_bytes())
        except FileNotFoundError:
            return None

    def write(self, org_id: str, collection: Collection, key: str, result: dict) -> None:
        path = self._path(org_id, collection, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        repository = self._repository(collection)
        for old in path.parent.glob("*.json"):  # results of a repository a purge replaced
            if not old.name.startswith(f"{repository}-"):
                old.unlink(missing_ok=True)
        atomic.write_bytes(path, json.dumps(result, ensure_ascii=False).encode("utf-8"))

    def drop(self, org_id: str, collection_id: str) -> None:
        shutil.rmtree(self.folder(org_id, collection_id), ignore_errors=True)
