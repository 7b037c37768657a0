"""Endpoints for the other services (the gateway), not for users: never proxied to the public.

``GET /internal/v1/revocations`` is the signed list of sessions and users whose access tokens
ended before their ``exp``; see the README for how a verifier uses it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint

from chatlens.auth import runtime, sessions

blueprint = Blueprint("internal", __name__)

REVOCATIONS = "revocations"
# The feed's own life: a verifier polls it every few seconds and never trusts a stale copy.
FEED_TTL_S = 60
# Clock leeway a verifier may allow on exp; ends older than access TTL + this are left out.
LEEWAY_S = 60


@blueprint.get("/internal/v1/revocations")
def revocations():
    """``{"token": JWT}``: typ "revocations", with ``sessions`` {sid: epoch} and ``users``
    {sub: valid_after epoch} ended within the access-token lifetime."""
    rt = runtime.current()
    window = timedelta(seconds=rt.settings.access_ttl_s + LEEWAY_S)
    with rt.sessions() as session:
        payload = sessions.revocations(session, window)
    token = rt.access_tokens.sign_document(REVOCATIONS, payload, FEED_TTL_S)
    return {"token": token}, 200, {"Cache-Control": "no-store"}
