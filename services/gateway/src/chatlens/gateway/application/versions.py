"""Reading a version reference: a number, or the name of a tag the index keeps."""

from __future__ import annotations

import re

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.shared import schemas

_VERSION_LIKE = re.compile(r"[vV]?[0-9]+")


def indexed_version(backends: Backends, caller: Caller, collection_id: str) -> int:
    """The collection's latest version (0: nothing indexed yet); ``NotFound`` outside the org."""
    with backends.sessions() as session:
        return jobs.get_collection(session, caller.org_id, collection_id).version


def resolve_version(backends: Backends, caller: Caller, collection_id: str,
                    ref: int | str | None) -> int | None:
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
    listed = backends.rpc.call(schemas.TagsListRequested(org_id=caller.org_id,
                                                         collection_id=collection_id))
    for tag in listed.tags:
        if tag.name == ref:
            return tag.version
    raise NotFound("tag_not_found", f"no tag {ref!r}")
