"""Request and response bodies of a collection's webhooks (``api/webhooks.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chatlens.gateway.api.http_models import Strict

WebhookEvent = Literal["job.succeeded", "job.failed", "version.created"]
URL = Field(
    min_length=8,
    max_length=2000,
    description=(
        "where the events are POSTed: https:// to a public address (a private, loopback or "
        "link-local one is refused unless the server allows it); redirects are not followed"
    ),
)


class WebhookCreate(Strict):
    url: str = URL
    events: list[WebhookEvent] = Field(
        min_length=1, max_length=3, description="the events this webhook receives"
    )
    description: str = Field(default="", max_length=500)
    active: bool = True


class WebhookUpdate(Strict):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    events: list[WebhookEvent] | None = Field(default=None, min_length=1, max_length=3)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class WebhookOut(BaseModel):
    id: str
    collection_id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: str
    updated_at: str


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description=("the signing secret, shown only now: keep it to verify Chatlens-Signature")
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class WebhookAttemptOut(BaseModel):
    number: int
    at: str
    status_code: int | None = Field(description="the receiver's HTTP status; null: no answer")
    error: str | None
    duration_ms: int


class WebhookDeliveryOut(BaseModel):
    id: str = Field(description="the Chatlens-Delivery header: the same on every attempt")
    webhook_id: str
    event: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    finished_at: str | None


class WebhookDeliveryDetail(WebhookDeliveryOut):
    body: str = Field(description="the exact JSON body sent (and signed)")
    attempt_log: list[WebhookAttemptOut]


class WebhookDeliveryList(BaseModel):
    deliveries: list[WebhookDeliveryOut]


class WebhookDeliveryQuery(Strict):
    status: Literal["pending", "delivered", "dead"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
