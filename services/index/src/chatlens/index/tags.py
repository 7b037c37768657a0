"""Named versions: tags a user gives a version ("before-cleanup"), usable wherever a version is.

A tag is a Git tag ``named/<name>`` on the version's commit, beside (never among) the ``v<N>``
tags the index makes itself, so a user's name can never shadow or move a version. Names that
could be read as a version (``12``, ``v12``) are refused: wherever a version is accepted, a tag
name is too, and the two must never be ambiguous.
"""

from __future__ import annotations

import re

from chatlens.index.ingest import Ingestor
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage import manifest as manifest_file
from chatlens.index.storage.collection import Collection, tag_name
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    TagCreateRequested,
    TagDeleteRequested,
    TagInfo,
    TagsListed,
    TagsListRequested,
)

NAMESPACE = "named/"
MAX_TAGS = 1000
# Safe as a Git ref component and as a URL path segment.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_VERSION_LIKE = re.compile(r"v?[0-9]+")


def check_name(name: str) -> str:
    """``name`` if it is a valid tag name; raises PermanentError ``invalid_tag``."""
    if not _NAME.fullmatch(name) or ".." in name or name.endswith((".", ".lock")):
        raise PermanentError(
            "a tag name is 1 to 63 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit",
            code="invalid_tag",
        )
    if _VERSION_LIKE.fullmatch(name):
        raise PermanentError(
            f"{name!r} reads as a version number; choose another name", code="invalid_tag"
        )
    return name


class Tags:
    """List, create and delete tags. Creating and deleting take the writer's lock."""

    def __init__(self, manifests: ManifestReader, ingestor: Ingestor) -> None:
        self.manifests, self.ingestor = manifests, ingestor

    def list(self, request: TagsListRequested) -> TagsListed:
        collection = self.manifests.collection(request.org_id, request.collection_id)
        return TagsListed(tags=tags_of(collection))

    def create(self, request: TagCreateRequested) -> TagsListed:
        name = check_name(request.name)
        collection = self.manifests.collection(request.org_id, request.collection_id)
        with self.ingestor.lock:
            version = self.manifests.manifest(collection, request.version).version
            existing = tags_of(collection)
            if any(tag.name == name for tag in existing):
                raise PermanentError(f"the tag {name!r} exists", code="tag_exists")
            if len(existing) >= MAX_TAGS:
                raise PermanentError(f"at most {MAX_TAGS} tags", code="too_many_tags")
            collection.git.tag(NAMESPACE + name, f"refs/tags/{tag_name(version)}")
        return TagsListed(tags=tags_of(collection))

    def delete(self, request: TagDeleteRequested) -> TagsListed:
        collection = self.manifests.collection(request.org_id, request.collection_id)
        with self.ingestor.lock:
            if not _NAME.fullmatch(request.name) or not collection.git.delete_tag(
                NAMESPACE + request.name
            ):
                raise PermanentError(f"no tag {request.name!r}", code="tag_not_found")
        return TagsListed(tags=tags_of(collection))


def tags_of(collection: Collection) -> list[TagInfo]:
    """Every tag of the collection with the version it names, by name."""
    names = [name.removeprefix(NAMESPACE) for name, _, _ in collection.git.tag_log(NAMESPACE + "*")]
    raws = collection.git.show_many(
        [f"refs/tags/{NAMESPACE}{name}:{manifest_file.FILENAME}" for name in names]
    )
    return sorted(
        (
            TagInfo(name=name, version=manifest_file.Manifest.parse(raw).version)
            for name, raw in zip(names, raws, strict=True)
            if raw is not None
        ),
        key=lambda tag: tag.name,
    )
