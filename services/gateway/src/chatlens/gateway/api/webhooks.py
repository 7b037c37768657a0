"""A collection's webhooks (issue 14); ``webhooks:manage`` (owners and admins; an API key given
that scope): a webhook sends the collection's events out, signed with a secret.

    POST   /api/v1/collections/{id}/webhooks                      201, the secret shown once
    GET    /api/v1/collections/{id}/webhooks                      the collection's webhooks
    GET    /api/v1/collections/{id}/webhooks/{wid}                one
    PATCH  /api/v1/collections/{id}/webhooks/{wid}                url, events, description, active
    DELETE /api/v1/collections/{id}/webhooks/{wid}                204, with its delivery log
    POST   …/webhooks/{wid}/rotate-secret                         a new secret, shown once
    POST   …/webhooks/{wid}/ping                                  202, a ``ping`` delivery staged
    GET    …/webhooks/{wid}/deliveries?status&limit               the delivery log, newest first
    GET    …/webhooks/{wid}/deliveries/{did}                      one, with its body and attempts
    POST   …/webhooks/{wid}/deliveries/{did}/redeliver            202, sent again (same id)

The work is ``chatlens.gateway.application.webhooks``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError
from spectree import Response as Responses

from chatlens.gateway.api import deps
from chatlens.gateway.api import webhook_http_models as wh
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.application import webhooks
from chatlens.gateway.security import WEBHOOKS_MANAGE, requires
from chatlens.shared.web import ApiError, json_body

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/collections/<collection_id>/webhooks")
# Its own permission (auth's role table: owners and admins), not the provider secrets' one.
MANAGE = WEBHOOKS_MANAGE
TAGS = ["webhooks"]


def _context() -> webhooks.Context:
    return current_app.extensions["chatlens.webhooks"]


def _json(view: Any) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() + "Z" if isinstance(value, datetime) else value

    out = {key: plain(value) for key, value in dataclasses.asdict(view).items()}
    if out.get("secret", "") is None:
        del out["secret"]
    for key in ("body", "attempt_log"):
        if key in out and out[key] is None:
            del out[key]
    for attempt in out.get("attempt_log") or []:
        attempt["at"] = plain(attempt["at"])
    return out


@bp.post("")
@spec.validate(
    json=wh.WebhookCreate,
    resp=Responses(HTTP_201=wh.WebhookWithSecret, **refusals(403, 404, 422)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def create(collection_id: str):
    body = json_body(wh.WebhookCreate)
    hook = webhooks.create(
        deps.backends(),
        deps.caller(),
        _context(),
        collection_id,
        body.url,
        list(body.events),
        body.description,
        body.active,
    )
    return _json(hook), 201


@bp.get("")
@spec.validate(
    resp=Responses(HTTP_200=wh.WebhookList, **refusals(403, 404)), tags=TAGS, skip_validation=True
)
@requires(MANAGE)
def list_hooks(collection_id: str):
    return {
        "webhooks": [
            _json(h) for h in webhooks.list_hooks(deps.backends(), deps.caller(), collection_id)
        ]
    }


@bp.get("/<webhook_id>")
@spec.validate(
    resp=Responses(HTTP_200=wh.WebhookOut, **refusals(403, 404)), tags=TAGS, skip_validation=True
)
@requires(MANAGE)
def get(collection_id: str, webhook_id: str):
    return _json(webhooks.get(deps.backends(), deps.caller(), collection_id, webhook_id))


@bp.patch("/<webhook_id>")
@spec.validate(
    json=wh.WebhookUpdate,
    resp=Responses(HTTP_200=wh.WebhookOut, **refusals(403, 404, 422)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def update(collection_id: str, webhook_id: str):
    body = json_body(wh.WebhookUpdate)
    hook = webhooks.update(
        deps.backends(),
        deps.caller(),
        _context(),
        collection_id,
        webhook_id,
        url=body.url,
        events=None if body.events is None else list(body.events),
        description=body.description,
        active=body.active,
    )
    return _json(hook)


@bp.delete("/<webhook_id>")
@spec.validate(resp=Responses("HTTP_204", **refusals(403, 404)), tags=TAGS, skip_validation=True)
@requires(MANAGE)
def delete(collection_id: str, webhook_id: str):
    webhooks.delete(deps.backends(), deps.caller(), collection_id, webhook_id)
    return Response(status=204)


@bp.post("/<webhook_id>/rotate-secret")
@spec.validate(
    resp=Responses(HTTP_200=wh.WebhookWithSecret, **refusals(403, 404)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def rotate_secret(collection_id: str, webhook_id: str):
    return _json(
        webhooks.rotate_secret(
            deps.backends(), deps.caller(), _context(), collection_id, webhook_id
        )
    )


@bp.post("/<webhook_id>/ping")
@spec.validate(
    resp=Responses(HTTP_202=wh.WebhookDeliveryOut, **refusals(403, 404)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def ping(collection_id: str, webhook_id: str):
    return _json(
        webhooks.ping(deps.backends(), deps.caller(), _context(), collection_id, webhook_id)
    ), 202


@bp.get("/<webhook_id>/deliveries")
@spec.validate(
    query=wh.WebhookDeliveryQuery,
    resp=Responses(HTTP_200=wh.WebhookDeliveryList, **refusals(403, 404, 422)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def deliveries(collection_id: str, webhook_id: str):
    try:
        query = wh.WebhookDeliveryQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(422, "validation_error", str(exc).splitlines()[0]) from None
    listed = webhooks.deliveries(
        deps.backends(), deps.caller(), collection_id, webhook_id, query.status, query.limit
    )
    return {"deliveries": [_json(d) for d in listed]}


@bp.get("/<webhook_id>/deliveries/<delivery_id>")
@spec.validate(
    resp=Responses(HTTP_200=wh.WebhookDeliveryDetail, **refusals(403, 404)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def delivery(collection_id: str, webhook_id: str, delivery_id: str):
    return _json(
        webhooks.delivery(deps.backends(), deps.caller(), collection_id, webhook_id, delivery_id)
    )


@bp.post("/<webhook_id>/deliveries/<delivery_id>/redeliver")
@spec.validate(
    resp=Responses(HTTP_202=wh.WebhookDeliveryOut, **refusals(403, 404, 409)),
    tags=TAGS,
    skip_validation=True,
)
@requires(MANAGE)
def redeliver(collection_id: str, webhook_id: str, delivery_id: str):
    return _json(
        webhooks.redeliver(
            deps.backends(), deps.caller(), _context(), collection_id, webhook_id, delivery_id
        )
    ), 202
