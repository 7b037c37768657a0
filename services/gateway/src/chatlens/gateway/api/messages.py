"""Opening one message: a citation or a search hit, whole, with its neighbours in its chat.

``GET /api/v1/collections/{id}/messages/{message_id}?context=5&version=`` answers the normalised
message (every field the parser kept: sender id, reply and thread, attachments, reactions, where in
the upload it came from) and up to ``context`` messages of its chat before and after it, from every
upload of the collection. A message deleted from the live version is a 404 there and still opens
at a pinned older version that held it; another org's collection is a 404 like a missing one.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from pydantic import BaseModel, Field, ValidationError
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.renderers import message_view
from chatlens.gateway.api.rpc import RPC_ERRORS, call
from chatlens.gateway.api.tags import resolve_version
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

bp = Blueprint("messages", __name__, url_prefix="/api/v1/collections")

ERRORS = {**RPC_ERRORS, "message_not_found": (404, "message_not_found")}


class MessageQuery(models.Strict):
    context: int = Field(default=5, ge=0, le=50, description="messages before and after")
    version: models.VersionRef | None = Field(
        default=None, description="a version number or a tag name; the latest when absent")


class MessageOut(BaseModel):
    message: schemas.ChatMessage
    before: list[models.ContextMessage] = Field(description="earlier in its chat, oldest first")
    after: list[models.ContextMessage] = Field(description="later in its chat, oldest first")
    version: int


@bp.get("/<collection_id>/messages/<path:message_id>")
@spec.validate(query=MessageQuery,
               resp=Response(HTTP_200=MessageOut, HTTP_404=models.Error, HTTP_422=models.Error,
                             HTTP_503=models.Error),
               tags=["search"], skip_validation=True)
@requires(SEARCH_READ)
def open_message(collection_id: str, message_id: str):
    try:
        query = MessageQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    if not 0 < len(message_id) <= 200:
        raise ApiError(404, "message_not_found", "no such message")
    org_id = g.principal.org_id
    with current_app.extensions["chatlens.sessions"]() as session:
        collection = jobs.get_collection(session, org_id, collection_id)
        empty = collection.version == 0
    version = resolve_version(org_id, collection_id, query.version)
    if empty:  # nothing indexed yet: the index has no repository for it
        raise ApiError(404, "message_not_found", f"no message {message_id!r}")
    found = call(schemas.MessageRequested(org_id=org_id, collection_id=collection_id,
                                          message_id=message_id, context=query.context,
                                          version=version), errors=ERRORS)
    return {"message": found.message.model_dump(mode="json"),
            "before": [message_view(m) for m in found.before],
            "after": [message_view(m) for m in found.after], "version": found.version}
