"""What is left of the caller's org's daily quotas (``ratelimits``: files uploaded and tokens
generated a day), so a person sees it before a refusal does.

    GET /api/v1/quotas   owners, admins and analysts (collections:write) of the token's org

The quotas are counted per org in the rate limiter's storage (Redis, or memory); reading them
spends nothing.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app
from pydantic import BaseModel, Field
from spectree import Response as Responses

from chatlens.gateway import ratelimits
from chatlens.gateway.api import deps
from chatlens.gateway.api.docs import spec
from chatlens.gateway.api.http_models import refusals
from chatlens.gateway.security import requires

bp = Blueprint("quotas", __name__, url_prefix="/api/v1")
READ = "collections:write"


class QuotaOut(BaseModel):
    limit: int = Field(description="how many a day")
    used: int = Field(description="spent in the current day's window")
    remaining: int
    resets_in_s: int | None = Field(
        description="seconds until the window renews; null while nothing was spent in it"
    )


class QuotasOut(BaseModel):
    uploads: QuotaOut = Field(description="files uploaded a day")
    tokens: QuotaOut = Field(description="tokens generated a day (answers, summaries, completions)")


@bp.get("/quotas")
@spec.validate(resp=Responses(HTTP_200=QuotasOut, **refusals(401, 403)), tags=["quotas"])
@requires(READ)
def quotas():
    limiter: ratelimits.RateLimits = current_app.extensions["chatlens.ratelimits"]
    org_id = deps.caller().org_id
    return {
        name: dataclasses.asdict(limiter.left(name, org_id))
        for name in (ratelimits.UPLOADS, ratelimits.TOKENS)
    }
