"""Model administration: each model's metadata and state, and swapping models at run time.

    GET  /api/v1/admin/models                    the registry, the default, loads per worker
    POST /api/v1/admin/models/reload             re-read the inference service's registry file
    PUT  /api/v1/admin/models/default {model}    load it on every llm worker, then make it default
    POST /api/v1/admin/models/{name}/load        load on every llm worker
    POST /api/v1/admin/models/{name}/unload      free its memory (loaded again on next use)

No restart of the gateway or the inference service: ``GET /v1/models`` shows the change at once.
The models serve every org (and the status shows the Dask workers' addresses), so these are for
platform administrators only (auth's ``grant-platform-admin`` or ``PLATFORM_ADMIN_EMAILS``), with
an access token: owning or administering an org is not enough, and an API key never is.
"""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from chatlens.gateway.api import answer_http_models as am
from chatlens.gateway.api import deps
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import models
from chatlens.gateway.security import platform_admin_required as model_admin
from chatlens.shared import schemas
from chatlens.shared.web import json_body

bp = Blueprint("model_admin", __name__, url_prefix="/api/v1/admin/models")


def _status_view(status: schemas.ModelsStatus) -> dict:
    return status.model_dump(mode="json", include=set(am.ModelsStatusOut.model_fields))


def _change(action: models.Change, model: str | None = None) -> dict:
    return _status_view(models.change(deps.backends(), deps.caller(), action, model))


STATUS = Response(HTTP_200=am.ModelsStatusOut, **refusals(403, 404, 409, 422, 503))


@bp.get("")
@spec.validate(resp=STATUS, tags=["models"], skip_validation=True)
@model_admin
def status():
    return _status_view(models.status(deps.backends()))


@bp.post("/reload")
@spec.validate(resp=STATUS, tags=["models"], skip_validation=True)
@model_admin
def reload():
    return _change("reload_registry")


@bp.put("/default")
@spec.validate(json=am.ModelSetDefault, resp=STATUS, tags=["models"], skip_validation=True)
@model_admin
def set_default():
    return _change("set_default", json_body(am.ModelSetDefault).model)


@bp.post("/<path:name>/load")
@spec.validate(resp=STATUS, tags=["models"], skip_validation=True)
@model_admin
def load(name: str):
    return _change("load", name)


@bp.post("/<path:name>/unload")
@spec.validate(resp=STATUS, tags=["models"], skip_validation=True)
@model_admin
def unload(name: str):
    return _change("unload", name)
