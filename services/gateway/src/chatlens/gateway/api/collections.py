"""Collections, their uploads and their jobs."""

from __future__ import annotations

import shutil
import zoneinfo

from flask import Blueprint, current_app, g, request
from spectree import Response
from sqlalchemy import select

from chatlens.gateway import jobs
from chatlens.gateway.api import models
from chatlens.gateway.api.docs import spec
from chatlens.gateway.db import Collection, Job, new_id
from chatlens.gateway.retention import remove_upload
from chatlens.gateway.security import (
    COLLECTIONS_READ,
    COLLECTIONS_WRITE,
    UPLOADS_CREATE,
    requires,
)
from chatlens.gateway.sniff import FORMATS
from chatlens.gateway.uploads import check_file, safe_filename
from chatlens.shared import schemas
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("collections", __name__, url_prefix="/api/v1/collections")


def _sessions():
    return current_app.extensions["chatlens.sessions"]


@bp.post("")
@spec.validate(json=models.CollectionCreate, resp=Response(HTTP_201=models.CollectionOut),
               tags=["collections"], skip_validation=True)
@requires(COLLECTIONS_WRITE)
def create_collection():
    body = json_body(models.CollectionCreate)
    with _sessions()() as session:
        collection = Collection(org_id=g.principal.org_id, name=body.name,
                                description=body.description, created_by=g.principal.user_id,
                                version=0)
        session.add(collection)
        session.commit()
        return jobs.collection_view(collection), 201


@bp.get("")
@spec.validate(resp=Response(HTTP_200=models.CollectionList), tags=["collections"],
               skip_validation=True)
@requires(COLLECTIONS_READ)
def list_collections():
    with _sessions()() as session:
        rows = session.scalars(select(Collection).where(Collection.org_id == g.principal.org_id)
                               .order_by(Collection.created_at)).all()
        return {"collections": [jobs.collection_view(c) for c in rows]}


@bp.get("/<collection_id>")
@spec.validate(resp=Response(HTTP_200=models.CollectionOut, HTTP_404=models.Error),
               tags=["collections"], skip_validation=True)
@requires(COLLECTIONS_READ)
def get_collection(collection_id: str):
    with _sessions()() as session:
        return jobs.collection_view(jobs.get_collection(session, g.principal.org_id, collection_id))


@bp.delete("/<collection_id>")
@spec.validate(resp=Response("HTTP_204", HTTP_404=models.Error), tags=["collections"],
               skip_validation=True)
@requires(COLLECTIONS_WRITE)
def delete_collection(collection_id: str):
    # The index removes the shards when it hears of it (the outbox: with this commit, surely);
    # the uploads still stored for the collection's jobs go once the rows are gone.
    with _sessions()() as session:
        collection = jobs.get_collection(session, g.principal.org_id, collection_id)
        name, org_id = collection.name, collection.org_id
        job_ids = list(session.scalars(select(Job.id).where(Job.collection_id == collection_id)))
        session.delete(collection)
        jobs.add_to_outbox(session, schemas.CollectionDeleted(org_id=org_id,
                                                              collection_id=collection_id))
        session.commit()
    current_app.extensions["chatlens.outbox"].wake()
    for job_id in job_ids:
        remove_upload(current_app.config["CHATLENS_UPLOAD_DIR"], org_id, job_id)
    current_app.extensions["chatlens.audit"].record(
        "collection.deleted", org_id=g.principal.org_id, actor_id=g.principal.user_id,
        target=collection_id, name=name[:200], role=g.principal.role)
    return "", 204


@bp.get("/<collection_id>/jobs")
@spec.validate(resp=Response(HTTP_200=models.JobList, HTTP_404=models.Error), tags=["jobs"],
               skip_validation=True)
@requires(COLLECTIONS_READ)
def list_jobs(collection_id: str):
    with _sessions()() as session:
        jobs.get_collection(session, g.principal.org_id, collection_id)
        return {"jobs": [jobs.job_view(j)
                         for j in jobs.list_jobs(session, g.principal.org_id, collection_id)]}


@bp.post("/<collection_id>/uploads")
@spec.validate(form=models.UploadForm,
               resp=Response(HTTP_202=models.UploadAccepted, HTTP_413=models.Error,
                             HTTP_415=models.Error, HTTP_422=models.Error),
               tags=["uploads"], skip_validation=True)
@requires(UPLOADS_CREATE)
def upload(collection_id: str):
    settings = current_app.config["CHATLENS_SETTINGS"]
    upload_dir = current_app.config["CHATLENS_UPLOAD_DIR"]
    with _sessions()() as session:
        collection = jobs.get_collection(session, g.principal.org_id, collection_id)
        if not request.mimetype == "multipart/form-data":
            raise ApiError(415, "unsupported_media_type", "send the files as multipart/form-data")
        requested_format = request.form.get("format", "auto")
        if requested_format not in ("auto", *FORMATS):
            raise ApiError(422, "unknown_format",
                           f"unknown format {requested_format!r}; "
                           f"one of: auto, {', '.join(FORMATS)}")
        timezone = request.form.get("timezone") or None
        if timezone is not None:
            try:
                zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ApiError(422, "unknown_timezone",
                               f"{timezone!r} is not an IANA time zone") from None
        unexpected = set(request.files) - {"files"}
        if unexpected:
            raise ApiError(422, "validation_error",
                           f"unexpected file field(s) {sorted(unexpected)}; use 'files'")
        files = request.files.getlist("files")
        if not files:
            raise ApiError(422, "no_files", "attach one or more files as the 'files' field")
        if len(files) > settings.max_files_per_upload:
            raise ApiError(413, "too_many_files",
                           f"at most {settings.max_files_per_upload} files per request")
        # Every file is checked before any is kept: one bad file refuses the whole request.
        limits = settings.archive_limits()
        checked = [check_file(safe_filename(f.filename), f.stream, requested_format, limits)
                   for f in files]
        accepted = []
        for item in checked:
            job_id = new_id()
            key = f"{collection.org_id}/{job_id}/{item.filename}"
            item.stream.commit(upload_dir / key)
            job = jobs.create_ingest_job(
                session, collection=collection, user_id=g.principal.user_id, job_id=job_id,
                filename=item.filename, upload_key=key, sha256=item.stream.sha256.hexdigest(),
                size=item.stream.size, format=item.format, timezone=timezone)
            accepted.append({"id": job.id, "filename": job.filename, "status": job.status})
        try:
            session.commit()
        except Exception:
            for item in accepted:
                shutil.rmtree(upload_dir / collection.org_id / item["id"], ignore_errors=True)
            raise
    current_app.extensions["chatlens.outbox"].wake()
    return {"jobs": accepted}, 202

