"""Tags: names for a collection's versions, and reading a version reference (number or tag).

The index keeps tags in the collection's Git repository (beside the ``v<N>`` tags), so they are
asked for over RPC like the versions. Anywhere the API takes a version it takes a tag name too;
:func:`resolve_version` turns either into the number, with a 404 for a tag that does not exist.
"""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import versions
from chatlens.gateway.security import COLLECTIONS_READ, COLLECTIONS_WRITE, requires
from chatlens.shared.web import json_body

bp = Blueprint("tags", __name__, url_prefix="/api/v1/collections")


def resolve_version(org_id: str, collection_id: str, ref: int | str | None) -> int | None:
    """The version number ``ref`` names (``application.versions.resolve_version``)."""
    return versions.resolve_version(deps.backends(), deps.caller_in(org_id), collection_id, ref)


@bp.get("/<collection_id>/tags")
@spec.validate(
    resp=Response(HTTP_200=http_models.TagList, **refusals(404, 503)),
    tags=["versions"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def list_tags(collection_id: str):
    tags = versions.list_tags(deps.backends(), deps.caller(), collection_id)
    return {"tags": [tag.model_dump() for tag in tags]}


@bp.post("/<collection_id>/tags")
@spec.validate(
    json=http_models.TagCreate,
    resp=Response(HTTP_201=http_models.TagOut, **refusals(403, 404, 409, 422, 503)),
    tags=["versions"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def create_tag(collection_id: str):
    backends, caller = deps.backends(), deps.caller()
    versions.indexed_version(backends, caller, collection_id)  # another org's: 404 before 422
    body = json_body(http_models.TagCreate)
    created = versions.create_tag(backends, caller, collection_id, body.name, body.version)
    return created.model_dump(), 201


@bp.delete("/<collection_id>/tags/<name>")
@spec.validate(
    resp=Response(HTTP_204=None, **refusals(403, 404, 503)), tags=["versions"], skip_validation=True
)
@requires(COLLECTIONS_WRITE)
def delete_tag(collection_id: str, name: str):
    versions.delete_tag(deps.backends(), deps.caller(), collection_id, name)
    return "", 204
