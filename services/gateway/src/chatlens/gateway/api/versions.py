"""A collection's index versions: the history, a comparison of two, and restoring an old one.

The index owns the history (Git); these endpoints ask it over RPC. A restore is a new version,
so it needs ``collections:write`` (owners, admins, analysts), and the collection's current
version here follows it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from pydantic import ValidationError
from spectree import Response

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.rpc import call
from chatlens.gateway.api.tags import resolve_version
from chatlens.gateway.db import Collection
from chatlens.gateway.security import COLLECTIONS_READ, COLLECTIONS_WRITE, requires
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

bp = Blueprint("versions", __name__, url_prefix="/api/v1/collections")


def _collection(collection_id: str) -> Collection:
    with current_app.extensions["chatlens.sessions"]() as session:
        return jobs.get_collection(session, g.principal.org_id, collection_id)


@bp.get("/<collection_id>/versions")
@spec.validate(resp=Response(HTTP_200=models.VersionList, HTTP_404=models.Error,
                             HTTP_503=models.Error), tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_READ)
def list_versions(collection_id: str):
    collection = _collection(collection_id)
    if collection.version == 0:  # nothing ingested yet: the index has no repository for it
        return {"versions": []}
    listed = call(schemas.VersionsListRequested(org_id=g.principal.org_id,
                                                collection_id=collection_id))
    return {"versions": [v.model_dump(mode="json") for v in listed.versions]}


@bp.get("/<collection_id>/versions/compare")
@spec.validate(query=models.VersionCompareQuery,
               resp=Response(HTTP_200=models.VersionComparison, HTTP_404=models.Error,
                             HTTP_422=models.Error, HTTP_503=models.Error),
               tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_READ)
def compare_versions(collection_id: str):
    try:
        query = models.VersionCompareQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    collection = _collection(collection_id)
    if collection.version == 0:
        raise ApiError(404, "version_not_found", "the collection has no versions yet")
    org_id = g.principal.org_id
    compared = call(schemas.VersionsCompareRequested(
        org_id=org_id, collection_id=collection_id,
        base=resolve_version(org_id, collection_id, query.base),
        other=resolve_version(org_id, collection_id, query.other), limit=query.limit))
    return compared.model_dump(mode="json", include={"base", "other", "added", "removed",
                                                     "added_ids", "removed_ids"})


@bp.post("/<collection_id>/versions/<version>/restore")
@spec.validate(resp=Response(HTTP_200=models.VersionRestoredOut, HTTP_403=models.Error,
                             HTTP_404=models.Error, HTTP_503=models.Error),
               tags=["versions"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def restore_version(collection_id: str, version: str):
    collection = _collection(collection_id)
    if collection.version == 0:
        raise ApiError(404, "version_not_found", f"no version {version!r}")
    number = resolve_version(g.principal.org_id, collection_id, version)  # a number or a tag
    restored = call(schemas.VersionRestoreRequested(org_id=g.principal.org_id,
                                                    collection_id=collection_id, version=number))
    with current_app.extensions["chatlens.sessions"]() as session:
        row = session.get(Collection, collection_id)
        if row is not None and restored.version > row.version:
            row.version = restored.version
            session.commit()
    return restored.model_dump(mode="json", include={"version", "restored", "added", "removed"})
