"""Tags: names for a collection's versions, and reading a version reference (number or tag).

The index keeps tags in the collection's Git repository (beside the ``v<N>`` tags), so they are
asked for over RPC like the versions. Anywhere the API takes a version it takes a tag name too;
:func:`resolve_version` turns either into the number, with a 404 for a tag that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import deps, models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.rpc import call
from chatlens.gateway.application import versions
from chatlens.gateway.db import Collection
from chatlens.gateway.security import COLLECTIONS_READ, COLLECTIONS_WRITE, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("tags", __name__, url_prefix="/api/v1/collections")

def _collection(org_id: str, collection_id: str) -> Collection:
    with current_app.extensions["chatlens.sessions"]() as session:
        return jobs.get_collection(session, org_id, collection_id)


def _tags(org_id: str, collection_id: str) -> list[schemas.TagInfo]:
    return call(schemas.TagsListRequested(org_id=org_id, collection_id=collection_id)).tags


def resolve_version(org_id: str, collection_id: str, ref: int | str | None) -> int | None:
    """The version number ``ref`` names (``application.versions.resolve_version``)."""
    return versions.resolve_version(deps.backends(), deps.caller_in(org_id), collection_id, ref)


def _view(tags: list[schemas.TagInfo]) -> dict:
    return {"tags": [tag.model_dump() for tag in tags]}


@bp.get("/<collection_id>/tags")
@spec.validate(resp=Response(HTTP_200=models.TagList, HTTP_404=models.Error,
                             HTTP_503=models.Error), tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_READ)
def list_tags(collection_id: str):
    org_id = g.principal.org_id
    if _collection(org_id, collection_id).version == 0:
        return {"tags": []}
    return _view(_tags(org_id, collection_id))


@bp.post("/<collection_id>/tags")
@spec.validate(json=models.TagCreate,
               resp=Response(HTTP_201=models.TagOut, HTTP_403=models.Error, HTTP_404=models.Error,
                             HTTP_409=models.Error, HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def create_tag(collection_id: str):
    org_id = g.principal.org_id
    collection = _collection(org_id, collection_id)  # another org's: 404 before any 422
    body = json_body(models.TagCreate)
    if collection.version == 0:
        raise ApiError(404, "version_not_found", "the collection has no versions yet")
    tags = call(schemas.TagCreateRequested(org_id=org_id, collection_id=collection_id,
                                           name=body.name, version=body.version)).tags
    [created] = [tag for tag in tags if tag.name == body.name]
    return created.model_dump(), 201


@bp.delete("/<collection_id>/tags/<name>")
@spec.validate(resp=Response(HTTP_204=None, HTTP_403=models.Error, HTTP_404=models.Error,
                             HTTP_503=models.Error), tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def delete_tag(collection_id: str, name: str):
    org_id = g.principal.org_id
    if _collection(org_id, collection_id).version == 0 or len(name) > 63:
        raise ApiError(404, "tag_not_found", f"no tag {name!r}")
    call(schemas.TagDeleteRequested(org_id=org_id, collection_id=collection_id, name=name))
    return "", 204
