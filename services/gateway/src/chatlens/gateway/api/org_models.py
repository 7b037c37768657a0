"""An org's own models: OpenAI-compatible endpoints, the defaults, the endpoint test, usage.

    GET    /api/v1/models/endpoints              the org's endpoints (any member)
    PUT    /api/v1/models/endpoints/{name}       add or replace one (owners and admins)
    DELETE /api/v1/models/endpoints/{name}       remove one (409 while it is a default)
    POST   /api/v1/models/endpoints/{name}/test  one cheap call: the provider's model list, or
                                                 its refusal as a 502 with a provider_* code
    GET    /api/v1/models/defaults               the models answers and summaries use
    PUT    /api/v1/models/defaults               set them (owners and admins)
    GET    /api/v1/models/usage?since&until      requests, failures and tokens per model and day

The work is ``chatlens.gateway.application.org_models`` and ``.usage``.
"""

from __future__ import annotations

import dataclasses
import re

from flask import Blueprint, Response, request
from pydantic import ValidationError
from spectree import Response as Responses

from chatlens.gateway.api import deps
from chatlens.gateway.api import org_model_http_models as om
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import org_models, usage
from chatlens.gateway.security import requires
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("org_models", __name__, url_prefix="/api/v1/models")
NAME = re.compile(om.ENDPOINT_NAME)
# Who may change what the org's requests run on, and see what they cost: owners and admins.
MANAGE, READ, USAGE = "secrets:manage", "answers:create", "audit:read"


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ApiError(404, "model_not_found", "no such endpoint in this org")
    return name


def _endpoint(endpoint: org_models.Endpoint) -> dict:
    return {**dataclasses.asdict(endpoint), "updated_at": endpoint.updated_at.isoformat()}


@bp.get("/endpoints")
@spec.validate(
    resp=Responses(HTTP_200=om.EndpointList, **refusals(403)), tags=["models"], skip_validation=True
)
@requires(READ)
def endpoints():
    listed = org_models.endpoints(deps.backends(), deps.caller())
    return {"endpoints": [_endpoint(e) for e in listed]}


@bp.put("/endpoints/<name>")
@spec.validate(
    json=om.EndpointIn,
    resp=Responses(
        HTTP_200=om.EndpointOut, HTTP_201=om.EndpointOut, **refusals(403, 404, 409, 422, 503)
    ),
    tags=["models"],
    skip_validation=True,
)
@requires(MANAGE)
def store(name: str):
    body = json_body(om.EndpointIn)
    stored, created = org_models.store(
        deps.backends(),
        deps.caller(),
        _name(name),
        str(body.base_url).rstrip("/"),
        body.model,
        body.secret,
        body.context_length,
    )
    return _endpoint(stored), 201 if created else 200


@bp.delete("/endpoints/<name>")
@spec.validate(
    resp=Responses("HTTP_204", **refusals(403, 404, 409)), tags=["models"], skip_validation=True
)
@requires(MANAGE)
def remove(name: str):
    org_models.remove(deps.backends(), deps.caller(), _name(name))
    return Response(status=204)


@bp.post("/endpoints/<name>/test")
@spec.validate(
    resp=Responses(HTTP_200=om.EndpointTested, **refusals(403, 404, 422, 502, 503)),
    tags=["models"],
    skip_validation=True,
)
@requires(MANAGE)
def test(name: str):
    tested = org_models.test(deps.backends(), deps.caller(), _name(name))
    return {"ok": True, "models": tested.models, "has_model": tested.has_model}


@bp.get("/defaults")
@spec.validate(
    resp=Responses(HTTP_200=om.DefaultsOut, **refusals(403)), tags=["models"], skip_validation=True
)
@requires(READ)
def defaults():
    return dataclasses.asdict(org_models.defaults(deps.backends(), deps.caller()))


@bp.put("/defaults")
@spec.validate(
    json=om.DefaultsIn,
    resp=Responses(HTTP_200=om.DefaultsOut, **refusals(403, 404, 422, 503)),
    tags=["models"],
    skip_validation=True,
)
@requires(MANAGE)
def set_defaults():
    body = json_body(om.DefaultsIn)
    return dataclasses.asdict(
        org_models.set_defaults(deps.backends(), deps.caller(), body.answers, body.summaries)
    )


@bp.get("/usage")
@spec.validate(
    query=om.UsageQuery,
    resp=Responses(HTTP_200=om.UsageOut, **refusals(403, 422)),
    tags=["models"],
    skip_validation=True,
)
@requires(USAGE)
def usage_report():
    try:
        query = om.UsageQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    totals, days = usage.report(deps.backends(), deps.caller(), query.since, query.until)
    return {"models": [_usage(row) for row in totals], "days": [_usage(row) for row in days]}


def _usage(row: usage.Usage) -> dict:
    return {**dataclasses.asdict(row), "day": None if row.day is None else row.day.isoformat()}
