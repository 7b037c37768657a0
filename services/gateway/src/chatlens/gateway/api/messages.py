"""Opening one message: a citation or a search hit, whole, with its neighbours in its chat.

``GET /api/v1/collections/{id}/messages/{message_id}?context=5&version=`` answers the normalised
message (every field the parser kept: sender id, reply and thread, attachments, reactions, where in
the upload it came from) and up to ``context`` messages of its chat before and after it, from every
upload of the collection. A message deleted from the live version is a 404 there and still opens
at a pinned older version that held it; another org's collection is a 404 like a missing one.
"""

from __future__ import annotations

from flask import Blueprint, request
from pydantic import BaseModel, Field, ValidationError
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import ContextMessage, refusals
from chatlens.gateway.api.renderers import message_view
from chatlens.gateway.application import messages
from chatlens.gateway.security import SEARCH_READ, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

bp = Blueprint("messages", __name__, url_prefix="/api/v1/collections")


class MessageQuery(http_models.Strict):
    context: int = Field(default=5, ge=0, le=50, description="messages before and after")
    version: http_models.VersionRef | None = Field(
        default=None, description="a version number or a tag name; the latest when absent"
    )


class MessageOut(BaseModel):
    message: schemas.ChatMessage
    before: list[ContextMessage] = Field(description="earlier in its chat, oldest first")
    after: list[ContextMessage] = Field(description="later in its chat, oldest first")
    version: int


@bp.get("/<collection_id>/messages/<path:message_id>")
@spec.validate(
    query=MessageQuery,
    resp=Response(HTTP_200=MessageOut, **refusals(404, 422, 503)),
    tags=["search"],
    skip_validation=True,
)
@requires(SEARCH_READ)
def open_message(collection_id: str, message_id: str):
    try:
        query = MessageQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    found = messages.open_message(
        deps.backends(), deps.caller(), collection_id, message_id, query.context, query.version
    )
    return {
        "message": found.message.model_dump(mode="json"),
        "before": [message_view(m) for m in found.before],
        "after": [message_view(m) for m in found.after],
        "version": found.version,
    }
