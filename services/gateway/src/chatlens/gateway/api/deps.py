"""The application layer's inputs for the request being served, from the composition root."""

from __future__ import annotations

from flask import current_app, g

from chatlens.gateway import ratelimits
from chatlens.gateway.application.capacity import GenerationSlots
from chatlens.gateway.application.ports import Backends, Caller, Rpc
from chatlens.shared.web import server_timing


def backends() -> Backends:
    """The bus, database and settings ``create_app`` built, as the use cases take them."""
    extensions = current_app.extensions
    backends = extensions.get("chatlens.backends")
    if backends is None:  # built once per app, on first use
        settings = current_app.config["CHATLENS_SETTINGS"]
        backends = Backends(
            rpc=Rpc(extensions["chatlens.bus"], settings, server_timing),
            sessions=extensions["chatlens.sessions"],
            settings=settings,
            upload_dir=current_app.config["CHATLENS_UPLOAD_DIR"],
            wake_outbox=extensions["chatlens.outbox"].wake,
            audit=extensions["chatlens.audit"],
            generations=GenerationSlots(settings.max_concurrent_generations),
            spend_tokens=ratelimits.spend_tokens,
        )
        extensions["chatlens.backends"] = backends
    return backends


def caller_in(org_id: str) -> Caller:
    """The authenticated caller, working in ``org_id`` (which ``requires`` checked)."""
    return Caller(org_id=org_id, user_id=g.principal.user_id, role=g.principal.role)


def caller() -> Caller:
    """The authenticated caller (``g.principal``, set by ``security.requires``)."""
    return caller_in(g.principal.org_id)
