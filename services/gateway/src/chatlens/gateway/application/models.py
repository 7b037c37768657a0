"""The models every org shares: listing them (``/v1/models``, the registry's entries) and, for
platform administrators, their state and changes at run time (reload the registry, set the
default, load, unload). A change is audited in the acting org's log: every org feels it."""

from __future__ import annotations

from typing import Literal

from chatlens.gateway.application.errors import NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.shared import schemas

MAX_NAME = 200
Change = Literal["reload_registry", "set_default", "load", "unload"]


def listed(backends: Backends) -> list[schemas.ModelInfo]:
    return backends.rpc.inference(schemas.ModelsListRequested(), schemas.ModelsListed).models


def find(backends: Backends, name: str) -> schemas.ModelInfo:
    for info in listed(backends):
        if info.name == name:
            return info
    raise NotFound("model_not_found", f"the model {name!r} does not exist")


def status(backends: Backends) -> schemas.ModelsStatus:
    return backends.rpc.inference(schemas.ModelsStatusRequested(), schemas.ModelsStatus)


def change(
    backends: Backends, caller: Caller, action: Change, model: str | None = None
) -> schemas.ModelsStatus:
    if model is not None and not 0 < len(model) <= MAX_NAME:
        raise NotFound("model_not_found", "no such model")
    changed = backends.rpc.inference(
        schemas.ModelChangeRequested(action=action, model=model), schemas.ModelsStatus
    )
    if backends.audit is not None:
        backends.audit.record(
            "models.changed",
            org_id=caller.org_id,
            actor_id=caller.user_id,
            target=model,
            action=action,
        )
    return changed
