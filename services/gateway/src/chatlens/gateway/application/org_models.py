"""An org's own models (issue 16): OpenAI-compatible endpoints it adds (vLLM, Ollama, a
provider), the defaults its answers and summaries use, and which model a request runs on.

An endpoint is a name the org's members use like a registry model, the provider's URL and model,
and the name of one of the org's provider secrets (auth keeps them encrypted). The gateway never
reads the key: requests carry the endpoint (``schemas.ProviderEndpoint``) to the inference
service, which reads the key from auth itself. Names are the org's own, so they may not shadow a
registry model (that would change what another request means).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.gateway.application import models
from chatlens.gateway.application.errors import Conflict, Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import ModelDefaults, ModelEndpoint, utcnow
from chatlens.shared import egress, schemas

Purpose = Literal["answers", "summaries"]


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    model: str
    secret: str | None
    context_length: int
    updated_at: datetime


@dataclass(frozen=True)
class Defaults:
    answers: str | None
    summaries: str | None


@dataclass(frozen=True)
class Resolved:
    """What a request runs on: a model name (None: the inference service's default) and the
    org endpoint behind it, if it is one."""

    model: str | None
    provider: schemas.ProviderEndpoint | None = None


def _view(row: ModelEndpoint) -> Endpoint:
    return Endpoint(
        row.name, row.base_url, row.model, row.secret, row.context_length, row.updated_at
    )


def _row(session: Session, org_id: str, name: str) -> ModelEndpoint | None:
    return session.scalar(
        select(ModelEndpoint).where(ModelEndpoint.org_id == org_id, ModelEndpoint.name == name)
    )


def _found(session: Session, org_id: str, name: str) -> ModelEndpoint:
    row = _row(session, org_id, name)
    if row is None:
        raise NotFound("model_not_found", f"the org has no endpoint {name!r}")
    return row


def endpoints(backends: Backends, caller: Caller) -> list[Endpoint]:
    with backends.sessions() as session:
        rows = session.scalars(
            select(ModelEndpoint)
            .where(ModelEndpoint.org_id == caller.org_id)
            .order_by(ModelEndpoint.name)
        )
        return [_view(row) for row in rows]


def store(
    backends: Backends,
    caller: Caller,
    name: str,
    base_url: str,
    model: str,
    secret: str | None,
    context_length: int,
) -> tuple[Endpoint, bool]:
    """Add or replace the endpoint ``name``; True when it is new."""
    allowed(backends, base_url)
    if name in {info.name for info in models.listed(backends)}:
        raise Conflict("model_exists", f"{name!r} is a model of the registry: pick another name")
    with backends.sessions() as session:
        row = _row(session, caller.org_id, name)
        created = row is None
        if row is None:
            row = ModelEndpoint(org_id=caller.org_id, name=name)
            session.add(row)
        row.base_url, row.model, row.secret = base_url, model, secret
        row.context_length, row.created_by = context_length, caller.user_id
        row.updated_at = utcnow().replace(microsecond=0)
        session.commit()
        stored = _view(row)
    _audit(
        backends,
        caller,
        "models.endpoint_stored",
        name,
        base_url=base_url,
        model=model,
        secret=secret,
    )
    return stored, created


def allowed(backends: Backends, base_url: str) -> None:
    """``Invalid`` unless the URL's host resolves only to public addresses (or the operator
    allows private ones: ENDPOINT_ALLOW_PRIVATE); the inference service checks again at each
    call, since a name can resolve elsewhere later."""
    policy = egress.Policy(allow_private=backends.settings.endpoint_allow_private, allow_http=True)
    try:
        egress.check(base_url, policy)
    except egress.RefusedUrl as exc:
        raise Invalid("endpoint_not_allowed", f"base_url may not be called: {exc}") from None


def remove(backends: Backends, caller: Caller, name: str) -> None:
    """Delete the endpoint ``name``; refused while it is one of the org's defaults."""
    with backends.sessions() as session:
        row = _found(session, caller.org_id, name)
        current = _defaults(session, caller.org_id)
        if name in (current.answers, current.summaries):
            raise Conflict(
                "model_in_use", f"{name!r} is a default of this org: set another default first"
            )
        session.delete(row)
        session.commit()
    _audit(backends, caller, "models.endpoint_deleted", name)


def test(backends: Backends, caller: Caller, name: str) -> schemas.ProviderTested:
    """One cheap call to the endpoint (the provider's model list), made by the inference
    service with the org's key; the provider's refusal is raised as its 502."""
    with backends.sessions() as session:
        provider = _provider(_found(session, caller.org_id, name), caller.org_id)
    return backends.rpc.inference(
        schemas.ProviderTestRequested(provider=provider), schemas.ProviderTested
    )


def _defaults(session: Session, org_id: str) -> Defaults:
    row = session.get(ModelDefaults, org_id)
    return Defaults(None, None) if row is None else Defaults(row.answers, row.summaries)


def defaults(backends: Backends, caller: Caller) -> Defaults:
    with backends.sessions() as session:
        return _defaults(session, caller.org_id)


def set_defaults(
    backends: Backends, caller: Caller, answers: str | None, summaries: str | None
) -> Defaults:
    """Set both defaults (None: the inference service's own); each must be an org endpoint or
    an LLM of the registry."""
    llms = {info.name for info in models.listed(backends) if info.kind == "llm"}
    with backends.sessions() as session:
        for name in (answers, summaries):
            if name is not None and name not in llms and _row(session, caller.org_id, name) is None:
                raise NotFound("model_not_found", f"no LLM or org endpoint {name!r}")
        row = session.get(ModelDefaults, caller.org_id)
        if row is None:
            row = ModelDefaults(org_id=caller.org_id)
            session.add(row)
        row.answers, row.summaries = answers, summaries
        row.updated_by, row.updated_at = caller.user_id, utcnow()
        session.commit()
    _audit(backends, caller, "models.defaults_changed", None, answers=answers, summaries=summaries)
    return Defaults(answers, summaries)


def resolve(
    backends: Backends, caller: Caller, requested: str | None, purpose: Purpose
) -> Resolved:
    """The model a request runs on: the one it names, else the org's default for ``purpose``;
    an org endpoint comes with its ``ProviderEndpoint``. Any other name goes to the inference
    service as it is (which refuses one its registry lacks)."""
    with backends.sessions() as session:
        name = requested or getattr(_defaults(session, caller.org_id), purpose)
        if name is None:
            return Resolved(None)
        row = _row(session, caller.org_id, name)
        return Resolved(name, None if row is None else _provider(row, caller.org_id))


def _provider(row: ModelEndpoint, org_id: str) -> schemas.ProviderEndpoint:
    return schemas.ProviderEndpoint(
        name=row.name,
        org_id=org_id,
        base_url=row.base_url,
        model=row.model,
        secret=row.secret,
        context_length=row.context_length,
    )


def _audit(
    backends: Backends, caller: Caller, event: str, target: str | None, **details: object
) -> None:
    if backends.audit is not None:
        backends.audit.record(
            event, org_id=caller.org_id, actor_id=caller.user_id, target=target, **details
        )
