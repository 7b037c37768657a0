"""Deleting messages from a collection: a chat, an upload, or every message of one sender.

A deletion is a new version without the messages: older versions keep them, and restoring one
brings them back. ``purge`` also removes them from every version (the history is rewritten), for
when the law requires it, and needs ``collections:purge``. Deleting what is already deleted
answers ``removed: 0`` and makes no version; a chat, sender or upload the collection never held
is not found, as is another org's collection. The index does the work; the collection's version
here follows it, and the deletion is audited.
"""

from __future__ import annotations

from typing import Literal

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Conflict, Forbidden, Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import Collection, Job
from chatlens.gateway.webhooks import outbox as webhooks
from chatlens.shared import schemas

PURGE = "collections:purge"
Selector = Literal["chat", "sender", "upload"]


def _check_upload(job: Job | None, collection: Collection) -> None:
    if job is None or job.collection_id != collection.id or job.org_id != collection.org_id:
        raise NotFound("upload_not_found", "no such upload in this collection")
    if job.status != "succeeded":
        raise Conflict(
            "upload_not_indexed",
            f"the upload's job is {job.status}: only an indexed upload has messages to delete",
        )


def delete(
    backends: Backends,
    caller: Caller,
    perms: frozenset[str] | set[str],
    collection_id: str,
    kind: Selector,
    value: str,
    purge: bool,
) -> schemas.MessagesDeleted:
    if purge and PURGE not in perms:
        raise Forbidden("forbidden", f"a purge needs the '{PURGE}' permission")
    if not value.strip() or len(value) > 500:
        raise Invalid("validation_error", f"the {kind} must be 1 to 500 characters")
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        if kind == "upload":
            _check_upload(session.get(Job, value), collection)
        if collection.version == 0:  # nothing indexed yet: there is nothing to delete
            raise NotFound(f"{kind}_not_found", f"the collection has no such {kind}")
    selector = {"job_id" if kind == "upload" else kind: value}
    deleted = backends.rpc.call(
        schemas.MessagesDeleteRequested(
            org_id=caller.org_id, collection_id=collection_id, purge=purge, **selector
        ),
        schemas.MessagesDeleted,
        timeout=backends.settings.deletion_timeout_s,
        service="index",
    )
    with backends.sessions() as session:
        row = session.get(Collection, collection_id)
        if row is not None and webhooks.advance_version(
            session, row, deleted.version, "purge" if purge else "deletion"
        ):
            session.commit()
    if backends.audit is not None:
        backends.audit.record(
            "messages.purged" if purge else "messages.deleted",
            org_id=caller.org_id,
            actor_id=caller.user_id,
            target=collection_id,
            selector=kind,
            value=value[:200],
            removed=deleted.removed,
            purged=deleted.purged,
            version=deleted.version,
            role=caller.role,
        )
    return deleted
