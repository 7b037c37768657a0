"""Opening one message of a collection whole, with its neighbours in its chat (a search hit's
or a citation's "show in context")."""

from __future__ import annotations

from chatlens.gateway.application.errors import NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.shared import schemas


def open_message(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    message_id: str,
    context: int,
    version: int | str | None,
) -> schemas.MessageFound:
    """The message at ``version`` (the latest: None) with ``context`` neighbours each side."""
    if not 0 < len(message_id) <= 200:
        raise NotFound("message_not_found", "no such message")
    empty = indexed_version(backends, caller, collection_id) == 0
    number = resolve_version(backends, caller, collection_id, version)
    if empty:  # nothing indexed yet: the index has no repository for it
        raise NotFound("message_not_found", f"no message {message_id!r}")
    return backends.rpc.call(
        schemas.MessageRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            message_id=message_id,
            context=context,
            version=number,
        ),
        schemas.MessageFound,
    )
