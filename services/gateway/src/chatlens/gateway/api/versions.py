"""A collection's index versions: the history, a comparison of two, and restoring an old one.

The index owns the history (Git); these endpoints ask it over RPC. A restore is a new version,
so it needs ``collections:write`` (owners, admins, analysts), and the collection's current
version here follows it.
"""

from __future__ import annotations

from flask import Blueprint, request
from pydantic import ValidationError
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import versions
from chatlens.gateway.security import COLLECTIONS_READ, COLLECTIONS_WRITE, requires
from chatlens.shared.web import ApiError

bp = Blueprint("versions", __name__, url_prefix="/api/v1/collections")


@bp.get("/<collection_id>/versions")
@spec.validate(
    resp=Response(HTTP_200=http_models.VersionList, **refusals(404, 503)),
    tags=["versions"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def list_versions(collection_id: str):
    listed = versions.list_versions(deps.backends(), deps.caller(), collection_id)
    return {"versions": [v.model_dump(mode="json") for v in listed]}


@bp.get("/<collection_id>/versions/compare")
@spec.validate(
    query=http_models.VersionCompareQuery,
    resp=Response(HTTP_200=http_models.VersionComparison, **refusals(404, 422, 503)),
    tags=["versions"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def compare_versions(collection_id: str):
    try:
        query = http_models.VersionCompareQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    compared = versions.compare(
        deps.backends(), deps.caller(), collection_id, query.base, query.other, query.limit
    )
    return compared.model_dump(mode="json", include=set(http_models.VersionComparison.model_fields))


@bp.post("/<collection_id>/versions/<version>/restore")
@spec.validate(
    resp=Response(HTTP_200=http_models.VersionRestoredOut, **refusals(403, 404, 503)),
    tags=["versions"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def restore_version(collection_id: str, version: str):
    restored = versions.restore(deps.backends(), deps.caller(), collection_id, version)
    return restored.model_dump(
        mode="json", include=set(http_models.VersionRestoredOut.model_fields)
    )
