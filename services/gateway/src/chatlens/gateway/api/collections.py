"""Collections, their uploads and their jobs."""

from __future__ import annotations

import dataclasses
import zoneinfo
from typing import cast

from flask import Blueprint, request
from spectree import Response

from chatlens.gateway.api import deps, http_models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import collections
from chatlens.gateway.security import (
    COLLECTIONS_READ,
    COLLECTIONS_WRITE,
    UPLOADS_CREATE,
    requires,
)
from chatlens.gateway.sniff import FORMATS
from chatlens.gateway.uploads import HashingFile, check_file, safe_filename
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("collections", __name__, url_prefix="/api/v1/collections")


@bp.post("")
@spec.validate(
    json=http_models.CollectionCreate,
    resp=Response(HTTP_201=http_models.CollectionOut),
    tags=["collections"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def create_collection():
    body = json_body(http_models.CollectionCreate)
    return collections.create(deps.backends(), deps.caller(), body.name, body.description), 201


@bp.get("")
@spec.validate(
    resp=Response(HTTP_200=http_models.CollectionList), tags=["collections"], skip_validation=True
)
@requires(COLLECTIONS_READ)
def list_collections():
    return {"collections": collections.list_all(deps.backends(), deps.caller())}


@bp.get("/<collection_id>")
@spec.validate(
    resp=Response(HTTP_200=http_models.CollectionOut, HTTP_404=http_models.Error),
    tags=["collections"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def get_collection(collection_id: str):
    return collections.get(deps.backends(), deps.caller(), collection_id)


@bp.delete("/<collection_id>")
@spec.validate(
    resp=Response("HTTP_204", HTTP_404=http_models.Error),
    tags=["collections"],
    skip_validation=True,
)
@requires(COLLECTIONS_WRITE)
def delete_collection(collection_id: str):
    collections.delete(deps.backends(), deps.caller(), collection_id)
    return "", 204


@bp.get("/<collection_id>/jobs")
@spec.validate(
    resp=Response(HTTP_200=http_models.JobList, **refusals(404)),
    tags=["jobs"],
    skip_validation=True,
)
@requires(COLLECTIONS_READ)
def list_jobs(collection_id: str):
    return {"jobs": collections.list_jobs(deps.backends(), deps.caller(), collection_id)}


def _upload_options() -> tuple[str, str | None]:
    """The form's ``format`` and ``timezone``, checked."""
    requested_format = request.form.get("format", "auto")
    if requested_format not in ("auto", *FORMATS):
        raise ApiError(
            422,
            "unknown_format",
            f"unknown format {requested_format!r}; one of: auto, {', '.join(FORMATS)}",
        )
    timezone = request.form.get("timezone") or None
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ApiError(
                422, "unknown_timezone", f"{timezone!r} is not an IANA time zone"
            ) from None
    return requested_format, timezone


@bp.post("/<collection_id>/uploads")
@spec.validate(
    form=http_models.UploadForm,
    resp=Response(HTTP_202=http_models.UploadAccepted, **refusals(404, 413, 415, 422)),
    tags=["uploads"],
    skip_validation=True,
)
@requires(UPLOADS_CREATE)
def upload(collection_id: str):
    backends, caller = deps.backends(), deps.caller()
    collections.get(backends, caller, collection_id)  # another org's id: 404 before anything
    if not request.mimetype == "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send the files as multipart/form-data")
    requested_format, timezone = _upload_options()
    unexpected = set(request.files) - {"files"}
    if unexpected:
        raise ApiError(
            422, "validation_error", f"unexpected file field(s) {sorted(unexpected)}; use 'files'"
        )
    files = request.files.getlist("files")
    if not files:
        raise ApiError(422, "no_files", "attach one or more files as the 'files' field")
    limit = backends.settings.max_files_per_upload
    if len(files) > limit:
        raise ApiError(413, "too_many_files", f"at most {limit} files per request")
    # Every file is checked before any is kept: one bad file refuses the whole request.
    limits = backends.settings.archive_limits()
    # UploadRequest streamed every part into the store: each stream is a HashingFile.
    checked = [
        check_file(safe_filename(f.filename), cast(HashingFile, f.stream), requested_format, limits)
        for f in files
    ]
    accepted = collections.accept_uploads(backends, caller, collection_id, checked, timezone)
    return {"jobs": [dataclasses.asdict(job) for job in accepted]}, 202
