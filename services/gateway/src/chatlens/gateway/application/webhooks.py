"""Webhooks of a collection (issue 14): the use cases behind ``/collections/{id}/webhooks``.

The signing secret is made here, returned once (on creation and rotation) and kept
Fernet-encrypted (``chatlens.shared.secret_box``): the dispatcher needs it to sign. A URL is
checked against the address policy (``chatlens.shared.egress``) before it is stored. ``ping`` and
``redeliver`` stage a delivery like any event, so the dispatcher sends it with its retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Conflict, Invalid, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import utcnow
from chatlens.gateway.webhooks import EVENTS, PING, outbox, signing
from chatlens.gateway.webhooks.tables import Webhook, WebhookAttempt, WebhookDelivery
from chatlens.shared import egress
from chatlens.shared.secret_box import SecretBox

MAX_WEBHOOKS = 20  # per collection


@dataclass(frozen=True)
class HookView:
    id: str
    collection_id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    secret: str | None = None  # only right after creation or rotation


@dataclass(frozen=True)
class AttemptView:
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class DeliveryView:
    id: str
    webhook_id: str
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    body: str | None = None
    attempt_log: list[AttemptView] | None = None


@dataclass(frozen=True)
class Context:
    """What the webhook use cases need beside the backends: the secret box and URL policy."""

    box: SecretBox
    policy: egress.Policy
    wake: object = None  # the dispatcher's wake(), called after a delivery is staged


def _view(row: Webhook, secret: str | None = None) -> HookView:
    return HookView(
        row.id,
        row.collection_id,
        row.url,
        list(row.events),
        row.description,
        row.active,
        row.created_at,
        row.updated_at,
        secret,
    )


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt] | None = None) -> DeliveryView:
    log = (
        None
        if attempts is None
        else [AttemptView(a.number, a.at, a.status_code, a.error, a.duration_ms) for a in attempts]
    )
    return DeliveryView(
        row.id,
        row.webhook_id,
        row.event,
        row.status,
        row.attempts,
        row.next_attempt_at if row.status == "pending" else None,
        row.last_status_code,
        row.last_error,
        row.created_at,
        row.finished_at,
        row.body if attempts is not None else None,
        log,
    )


def _checked(url: str, events: list[str], context: Context) -> None:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise Invalid(
            "invalid_events",
            f"events must be among {', '.join(EVENTS)}"
            + (f" (not {', '.join(unknown)})" if unknown else ""),
        )
    try:
        egress.check(url, context.policy)
    except egress.RefusedUrl as exc:
        raise Invalid("webhook_url_refused", str(exc)) from None


def _hook(session: Session, caller: Caller, collection_id: str, webhook_id: str) -> Webhook:
    jobs.get_collection(session, caller.org_id, collection_id)
    row = session.get(Webhook, webhook_id)
    if row is None or row.org_id != caller.org_id or row.collection_id != collection_id:
        raise NotFound("webhook_not_found", "no such webhook in this collection")
    return row


def _wake(context: Context) -> None:
    if callable(context.wake):
        context.wake()


def create(
    backends: Backends,
    caller: Caller,
    context: Context,
    collection_id: str,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
) -> HookView:
    secret = signing.new_secret()
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        _checked(url, events, context)
        count = len(
            session.scalars(select(Webhook.id).where(Webhook.collection_id == collection.id)).all()
        )
        if count >= MAX_WEBHOOKS:
            raise Invalid("too_many_webhooks", f"a collection has at most {MAX_WEBHOOKS} webhooks")
        now = utcnow()
        row = Webhook(
            org_id=caller.org_id,
            collection_id=collection.id,
            url=url,
            events=sorted(set(events)),
            description=description,
            active=active,
            secret=context.box.encrypt(secret),
            created_by=caller.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.commit()
        return _view(row, secret)


def list_hooks(backends: Backends, caller: Caller, collection_id: str) -> list[HookView]:
    with backends.sessions() as session:
        jobs.get_collection(session, caller.org_id, collection_id)
        rows = session.scalars(
            select(Webhook)
            .where(Webhook.collection_id == collection_id)
            .order_by(Webhook.created_at)
        ).all()
        return [_view(row) for row in rows]


def get(backends: Backends, caller: Caller, collection_id: str, webhook_id: str) -> HookView:
    with backends.sessions() as session:
        return _view(_hook(session, caller, collection_id, webhook_id))


def update(
    backends: Backends,
    caller: Caller,
    context: Context,
    collection_id: str,
    webhook_id: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> HookView:
    with backends.sessions() as session:
        row = _hook(session, caller, collection_id, webhook_id)
        _checked(url or row.url, row.events if events is None else events, context)
        if url is not None:
            row.url = url
        if events is not None:
            row.events = sorted(set(events))
        if description is not None:
            row.description = description
        if active is not None:
            row.active = active
        row.updated_at = utcnow()
        session.commit()
        return _view(row)


def delete(backends: Backends, caller: Caller, collection_id: str, webhook_id: str) -> None:
    """The webhook and its delivery log (the database cascades; pending ones are not sent)."""
    with backends.sessions() as session:
        row = _hook(session, caller, collection_id, webhook_id)
        session.delete(row)
        session.commit()


def rotate_secret(
    backends: Backends, caller: Caller, context: Context, collection_id: str, webhook_id: str
) -> HookView:
    """A new secret, effective for every attempt from now on (pending retries included)."""
    secret = signing.new_secret()
    with backends.sessions() as session:
        row = _hook(session, caller, collection_id, webhook_id)
        row.secret, row.updated_at = context.box.encrypt(secret), utcnow()
        session.commit()
        return _view(row, secret)


def ping(
    backends: Backends, caller: Caller, context: Context, collection_id: str, webhook_id: str
) -> DeliveryView:
    """Stage a ``ping`` delivery (whatever events the webhook chose)."""
    with backends.sessions() as session:
        row = _hook(session, caller, collection_id, webhook_id)
        staged = outbox.delivery(row, PING, {"webhook_id": row.id, "url": row.url})
        session.add(staged)
        session.commit()
        view = _delivery(staged)
    _wake(context)
    return view


def deliveries(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    webhook_id: str,
    status: str | None = None,
    limit: int = 50,
) -> list[DeliveryView]:
    with backends.sessions() as session:
        _hook(session, caller, collection_id, webhook_id)
        query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        rows = session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
        ).all()
        return [_delivery(row) for row in rows]


def _owned_delivery(
    session: Session, caller: Caller, collection_id: str, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    _hook(session, caller, collection_id, webhook_id)
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.webhook_id != webhook_id:
        raise NotFound("delivery_not_found", "no such delivery for this webhook")
    return row


def delivery(
    backends: Backends, caller: Caller, collection_id: str, webhook_id: str, delivery_id: str
) -> DeliveryView:
    """One delivery with its body and every attempt."""
    with backends.sessions() as session:
        row = _owned_delivery(session, caller, collection_id, webhook_id, delivery_id)
        attempts = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == row.id)
            .order_by(WebhookAttempt.number)
        ).all()
        return _delivery(row, list(attempts))


def redeliver(
    backends: Backends,
    caller: Caller,
    context: Context,
    collection_id: str,
    webhook_id: str,
    delivery_id: str,
) -> DeliveryView:
    """Send a delivery again, with the same id and body and a fresh attempt budget (a receiver
    that stored it already recognises the id)."""
    with backends.sessions() as session:
        row = _owned_delivery(session, caller, collection_id, webhook_id, delivery_id)
        if row.status == "pending":
            raise Conflict("delivery_pending", "the delivery is still being tried")
        row.status, row.attempts, row.finished_at = "pending", 0, None
        row.next_attempt_at, row.lease_owner, row.lease_until = utcnow(), None, None
        session.commit()
        view = _delivery(row)
    _wake(context)
    return view
