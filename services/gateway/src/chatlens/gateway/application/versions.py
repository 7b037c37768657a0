"""A collection's versions and tags: reading a reference (a number, or the name of a tag the
index keeps), listing, comparing, restoring, tagging. The index keeps both in the collection's
Git repository and answers over RPC; a collection with nothing indexed has neither."""

from __future__ import annotations

import re

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import Collection
from chatlens.gateway.webhooks import outbox as webhooks
from chatlens.shared import schemas

_VERSION_LIKE = re.compile(r"[vV]?[0-9]+")


def indexed_version(backends: Backends, caller: Caller, collection_id: str) -> int:
    """The collection's latest version (0: nothing indexed yet); ``NotFound`` outside the org."""
    with backends.sessions() as session:
        return jobs.get_collection(session, caller.org_id, collection_id).version


def resolve_version(
    backends: Backends, caller: Caller, collection_id: str, ref: int | str | None
) -> int | None:
    """The version number ``ref`` names: a number (``3`` or ``"3"``) or a tag name.

    Tag names never look like versions (the index refuses ``12`` and ``v12``), so a ref that
    does and is not a plain number is a version that does not exist.
    """
    if ref is None or isinstance(ref, int):
        return ref
    if ref.isascii() and ref.isdigit() and len(ref) <= 9:  # not "³": int() refuses it
        return int(ref)
    if _VERSION_LIKE.fullmatch(ref) or (ref.isdigit() and not ref.isascii()):
        raise NotFound("version_not_found", f"no version {ref!r}")
    if ref[:1] == "-" and ref[1:].isdigit():
        raise Invalid("validation_error", "a version number is 0 or more")
    if indexed_version(backends, caller, collection_id) == 0:  # nothing indexed: no tags either
        raise NotFound("tag_not_found", f"no tag {ref!r}")
    listed = backends.rpc.call(
        schemas.TagsListRequested(org_id=caller.org_id, collection_id=collection_id),
        schemas.TagsListed,
    )
    for tag in listed.tags:
        if tag.name == ref:
            return tag.version
    raise NotFound("tag_not_found", f"no tag {ref!r}")


def _indexed(
    backends: Backends, caller: Caller, collection_id: str, code: str, message: str
) -> None:
    """``NotFound(code)`` when the collection has nothing indexed (the index has no repository
    for it yet); another org's collection is ``collection_not_found`` before that."""
    if indexed_version(backends, caller, collection_id) == 0:
        raise NotFound(code, message)


def list_versions(
    backends: Backends, caller: Caller, collection_id: str
) -> list[schemas.VersionInfo]:
    if indexed_version(backends, caller, collection_id) == 0:
        return []
    return backends.rpc.call(
        schemas.VersionsListRequested(org_id=caller.org_id, collection_id=collection_id),
        schemas.VersionsListed,
    ).versions


def compare(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    base: int | str,
    other: int | str,
    limit: int,
) -> schemas.VersionsCompared:
    _indexed(
        backends, caller, collection_id, "version_not_found", "the collection has no versions yet"
    )
    return backends.rpc.call(
        schemas.VersionsCompareRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            base=resolve_version(backends, caller, collection_id, base),
            other=resolve_version(backends, caller, collection_id, other),
            limit=limit,
        ),
        schemas.VersionsCompared,
    )


def restore(
    backends: Backends, caller: Caller, collection_id: str, ref: str
) -> schemas.VersionRestored:
    """A new version with ``ref``'s content; the collection's version moves to it at once
    (the ``IndexRestored`` event would move it too, a moment later)."""
    _indexed(backends, caller, collection_id, "version_not_found", f"no version {ref!r}")
    number = resolve_version(backends, caller, collection_id, ref)
    restored = backends.rpc.call(
        schemas.VersionRestoreRequested(
            org_id=caller.org_id, collection_id=collection_id, version=number
        ),
        schemas.VersionRestored,
    )
    with backends.sessions() as session:
        row = session.get(Collection, collection_id)
        if row is not None and webhooks.advance_version(session, row, restored.version, "restore"):
            session.commit()
    return restored


def list_tags(backends: Backends, caller: Caller, collection_id: str) -> list[schemas.TagInfo]:
    if indexed_version(backends, caller, collection_id) == 0:
        return []
    return backends.rpc.call(
        schemas.TagsListRequested(org_id=caller.org_id, collection_id=collection_id),
        schemas.TagsListed,
    ).tags


def create_tag(
    backends: Backends, caller: Caller, collection_id: str, name: str, version: int | None
) -> schemas.TagInfo:
    _indexed(
        backends, caller, collection_id, "version_not_found", "the collection has no versions yet"
    )
    tags = backends.rpc.call(
        schemas.TagCreateRequested(
            org_id=caller.org_id, collection_id=collection_id, name=name, version=version
        ),
        schemas.TagsListed,
    ).tags
    [created] = [tag for tag in tags if tag.name == name]
    return created


def delete_tag(backends: Backends, caller: Caller, collection_id: str, name: str) -> None:
    _indexed(backends, caller, collection_id, "tag_not_found", f"no tag {name!r}")
    if len(name) > 63:  # longer than any tag the index keeps
        raise NotFound("tag_not_found", f"no tag {name!r}")
    backends.rpc.call(
        schemas.TagDeleteRequested(org_id=caller.org_id, collection_id=collection_id, name=name),
        schemas.TagsListed,
    )
