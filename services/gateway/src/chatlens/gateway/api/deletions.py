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

from flask import Blueprint, g, request
from pydantic import BaseModel, Field, ValidationError, model_validator
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import deletions, versions
from chatlens.gateway.security import COLLECTIONS_WRITE, requires
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("deletions", __name__, url_prefix="/api/v1/collections")


class DeletionIn(http_models.Strict):
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


class PurgeQuery(http_models.Strict):
    purge: bool = Field(default=False, description="also remove them from every older version")


class DeletionOut(BaseModel):
    version: int = Field(description="the collection's live version after the deletion")
    removed: int = Field(description="messages removed from the live version")
    purged: int = Field(description="messages removed from the whole history (purge only)")
    rewritten: int = Field(description="versions a purge rewrote")


RESPONSES = Response(HTTP_200=DeletionOut, **refusals(403, 404, 409, 422, 503))


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
    kind: deletions.Selector = (
        "chat" if body.chat is not None else "sender" if body.sender is not None else "upload"
    )
    return _delete(collection_id, kind, getattr(body, kind), body.purge)


def _own_collection(collection_id: str) -> None:
    """404 for another org's collection before anything else is looked at (its body too)."""
    versions.indexed_version(deps.backends(), deps.caller(), collection_id)


def _purge_query() -> bool:
    try:
        return PurgeQuery.model_validate(request.args.to_dict()).purge
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None


def _delete(collection_id: str, kind: deletions.Selector, value: str, purge: bool) -> dict:
    deleted = deletions.delete(
        deps.backends(), deps.caller(), set(g.principal.perms), collection_id, kind, value, purge
    )
    return deleted.model_dump(mode="json", include={"version", "removed", "purged", "rewritten"})
