"""Deleting messages from a collection: a chat, an upload, or every message of one sender.

``DELETE …/chats/{chat}`` and ``DELETE …/uploads/{job_id}`` are the plain cases;
``POST …/deletions`` takes any selector in a body (a sender's name never has to travel in a URL,
where proxies log it). The index does the work over RPC and answers with the new version and the
count; the collection's version here follows it, and the deletion is audited.

A deletion is a new version without the messages: older versions keep them, and restoring one
brings them back. ``purge`` also removes them from every version (the history is rewritten), for
when the law requires it; it needs ``collections:purge`` (admins and owners). Deleting what is
already deleted answers ``removed: 0`` and makes no version; a chat, sender or upload the
collection never held is a 404, as is another org's collection.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, Field, ValidationError, model_validator
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.rpc import RPC_ERRORS, call
from chatlens.gateway.db import Collection, Job
from chatlens.gateway.security import COLLECTIONS_PURGE, COLLECTIONS_WRITE, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("deletions", __name__, url_prefix="/api/v1/collections")

ERRORS = {**RPC_ERRORS, "chat_not_found": (404, "chat_not_found"),
          "sender_not_found": (404, "sender_not_found"),
          "upload_not_found": (404, "upload_not_found")}


class DeletionIn(models.Strict):
    """Exactly one of ``chat``, ``sender`` (display name or sender id; a privacy request) and
    ``upload`` (the job id an upload returned)."""

    chat: str | None = Field(default=None, min_length=1, max_length=500)
    sender: str | None = Field(default=None, min_length=1, max_length=500)
    upload: str | None = Field(default=None, min_length=1, max_length=64)
    purge: bool = Field(default=False, description="also remove them from every older version")

    @model_validator(mode="after")
    def _one_selector(self) -> DeletionIn:
        if sum(v is not None for v in (self.chat, self.sender, self.upload)) != 1:
            raise ValueError("name exactly one of chat, sender, upload")
        return self


class PurgeQuery(models.Strict):
    purge: bool = Field(default=False, description="also remove them from every older version")


class DeletionOut(BaseModel):
    version: int = Field(description="the collection's live version after the deletion")
    removed: int = Field(description="messages removed from the live version")
    purged: int = Field(description="messages removed from the whole history (purge only)")
    rewritten: int = Field(description="versions a purge rewrote")


RESPONSES = Response(HTTP_200=DeletionOut, HTTP_403=models.Error, HTTP_404=models.Error,
                     HTTP_409=models.Error, HTTP_422=models.Error, HTTP_503=models.Error)


@bp.delete("/<collection_id>/chats/<path:chat>")
@spec.validate(query=PurgeQuery, resp=RESPONSES, tags=["deletions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def delete_chat(collection_id: str, chat: str):
    """Delete one chat's messages (the name as search's ``chat`` filter matches it)."""
    _own_collection(collection_id)
    return _delete(collection_id, "chat", chat, _purge_query())


@bp.delete("/<collection_id>/uploads/<job_id>")
@spec.validate(query=PurgeQuery, resp=RESPONSES, tags=["deletions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def delete_upload(collection_id: str, job_id: str):
    """Delete the messages an upload added (its job id, as the upload answered)."""
    _own_collection(collection_id)
    return _delete(collection_id, "upload", job_id, _purge_query())


@bp.post("/<collection_id>/deletions")
@spec.validate(json=DeletionIn, resp=RESPONSES, tags=["deletions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def delete_messages(collection_id: str):
    """Delete a chat, an upload or a sender's messages, named in the body."""
    _own_collection(collection_id)
    body = json_body(DeletionIn)
    kind = "chat" if body.chat is not None else "sender" if body.sender is not None else "upload"
    return _delete(collection_id, kind, getattr(body, kind), body.purge)


def _own_collection(collection_id: str) -> None:
    """404 for another org's collection before anything else is looked at (its body too)."""
    with current_app.extensions["chatlens.sessions"]() as session:
        jobs.get_collection(session, g.principal.org_id, collection_id)


def _purge_query() -> bool:
    try:
        return PurgeQuery.model_validate(request.args.to_dict()).purge
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None


def _delete(collection_id: str, kind: str, value: str, purge: bool):
    principal = g.principal
    if purge and COLLECTIONS_PURGE not in principal.perms:
        raise ApiError(403, "forbidden", f"a purge needs the '{COLLECTIONS_PURGE}' permission")
    if not value.strip() or len(value) > 500:
        raise ApiError(422, "validation_error", f"the {kind} must be 1 to 500 characters")
    with current_app.extensions["chatlens.sessions"]() as session:
        collection = jobs.get_collection(session, principal.org_id, collection_id)
        if kind == "upload":
            _check_upload(session.get(Job, value), collection)
        if collection.version == 0:  # nothing indexed yet: there is nothing to delete
            raise ApiError(404, f"{kind}_not_found", f"the collection has no such {kind}")
    selector = {"job_id" if kind == "upload" else kind: value}
    settings = current_app.config["CHATLENS_SETTINGS"]
    deleted = call(schemas.MessagesDeleteRequested(
        org_id=principal.org_id, collection_id=collection_id, purge=purge, **selector),
        timeout=settings.deletion_timeout_s, errors=ERRORS, service="index")
    with current_app.extensions["chatlens.sessions"]() as session:
        row = session.get(Collection, collection_id)
        if row is not None and deleted.version > row.version:
            row.version = deleted.version
            session.commit()
    current_app.extensions["chatlens.audit"].record(
        "messages.purged" if purge else "messages.deleted", org_id=principal.org_id,
        actor_id=principal.user_id, target=collection_id, selector=kind, value=value[:200],
        removed=deleted.removed, purged=deleted.purged, version=deleted.version,
        role=principal.role)
    return deleted.model_dump(mode="json", include={"version", "removed", "purged", "rewritten"})


def _check_upload(job: Job | None, collection: Collection) -> None:
    if job is None or job.collection_id != collection.id or job.org_id != collection.org_id:
        raise ApiError(404, "upload_not_found", "no such upload in this collection")
    if job.status != "succeeded":
        raise ApiError(409, "upload_not_indexed",
                       f"the upload's job is {job.status}: only an indexed upload has messages "
                       f"to delete")
