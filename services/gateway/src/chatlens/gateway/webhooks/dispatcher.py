"""The webhook dispatcher: sends committed deliveries, at least once, from every gateway replica.

Each round claims a few due rows: a conditional UPDATE sets this dispatcher's lease on a pending
row whose lease is free or expired, so two replicas never send the same row at the same time.
The HTTP call happens outside any transaction, with a timeout and without following redirects;
then the attempt is recorded (status code or error, duration) and the row is delivered (2xx),
dead (after ``webhook_max_attempts``, or a URL no longer allowed) or due again after an
exponential backoff with jitter (tenacity's ``wait_exponential_jitter``).

A dispatcher that dies mid-call leaves its lease to expire; the row is then claimed again and
sent again with the same ``Chatlens-Delivery`` id: at least once, never exactly once, so
receivers de-duplicate on that id.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
from prometheus_client import Counter, Histogram
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, wait_exponential_jitter

from chatlens.gateway.db import utcnow
from chatlens.gateway.polling import PollingLoop
from chatlens.gateway.webhooks import signing
from chatlens.gateway.webhooks.tables import Webhook, WebhookAttempt, WebhookDelivery
from chatlens.shared import egress
from chatlens.shared.secret_box import SecretBox

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "chatlens_gateway_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, retrying, dead)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "chatlens_gateway_webhook_attempt_seconds",
    "Duration of one webhook HTTP attempt",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
USER_AGENT = "Chatlens-Webhooks/1"


@dataclass(frozen=True)
class DispatchSettings:
    timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_s: float = 10.0
    backoff_max_s: float = 3600.0
    lease_s: float = 60.0
    poll_s: float = 1.0
    # Deliveries sent at once: a round's claims are all sent in parallel, so each finishes
    # within the time-out, well inside its lease (at least twice the time-out); one slow
    # receiver holds one worker, not the others' deliveries.
    concurrency: int = 4
    policy: egress.Policy = egress.Policy()

    @classmethod
    def from_settings(cls, settings: Any) -> DispatchSettings:
        return cls(
            timeout_s=settings.webhook_timeout_s,
            max_attempts=settings.webhook_max_attempts,
            backoff_s=settings.webhook_backoff_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            lease_s=max(settings.webhook_lease_s, settings.webhook_timeout_s * 2),
            poll_s=settings.webhook_poll_s,
            concurrency=settings.webhook_concurrency,
            policy=egress.Policy(settings.webhook_allow_private, settings.webhook_allow_http),
        )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    seconds: float
    permanent: bool = False  # no point trying again (the URL is refused now)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_s(settings: DispatchSettings, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential from
    ``backoff_s``, capped, plus up to ``backoff_s`` of random jitter."""
    wait = wait_exponential_jitter(
        multiplier=settings.backoff_s,
        max=settings.backoff_max_s,
        exp_base=2,
        jitter=settings.backoff_s,
    )
    state = cast(RetryCallState, type("Attempt", (), {"attempt_number": attempt})())
    return float(wait(state))


class Dispatcher(PollingLoop):
    name = "webhook-dispatcher"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        settings: DispatchSettings,
        owner: str | None = None,
    ) -> None:
        super().__init__(settings.poll_s)
        self.sessions, self.box, self.settings = sessions, box, settings
        # Connects only to addresses it checked itself (no DNS rebinding), never through the
        # environment's proxy, never following a redirect.
        self.http = egress.guarded_client(
            settings.policy, timeout=settings.timeout_s, follow_redirects=False
        )
        self.owner = owner or uuid.uuid4().hex
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="webhook-send")

    def claim(self, limit: int = 10) -> list[str]:
        """Lease up to ``limit`` due deliveries to this dispatcher; their ids."""
        now = utcnow()
        free = or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
        claimed = []
        with self.sessions.begin() as session:
            due = session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    free,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            ).all()
            for delivery_id in due:
                taken = session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending", free
                    )
                    .values(
                        lease_owner=self.owner,
                        lease_until=now + timedelta(seconds=self.settings.lease_s),
                    )
                    .execution_options(synchronize_session=False)
                )
                if getattr(taken, "rowcount", 0) == 1:
                    claimed.append(delivery_id)
        return claimed

    def send(self, delivery_id: str) -> str | None:
        """One attempt at a claimed delivery; its new status (None: the row is gone)."""
        with self.sessions() as session:
            row = session.get(WebhookDelivery, delivery_id)
            hook = session.get(Webhook, row.webhook_id) if row is not None else None
            if row is None or hook is None:
                return None
            url, body, event = hook.url, row.body.encode(), row.event
            secret = self.box.decrypt(hook.secret)
        outcome = self._post(url, secret, event, delivery_id, body)
        return self._record(delivery_id, outcome)

    def _post(self, url: str, secret: str, event: str, delivery_id: str, body: bytes) -> Outcome:
        started = time.monotonic()
        try:
            egress.check(url, self.settings.policy)
        except egress.Unresolvable as exc:
            return Outcome(None, str(exc), time.monotonic() - started)
        except egress.RefusedUrl as exc:
            return Outcome(None, str(exc), time.monotonic() - started, permanent=True)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.EVENT: event,
            signing.DELIVERY: delivery_id,
            signing.SIGNATURE: signing.header(secret, int(time.time()), body),
        }
        try:
            # Streamed and closed unread: the receiver's body is not ours to hold in memory.
            with self.http.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
        except (httpx.HTTPError, egress.RefusedUrl) as exc:
            refused = egress.refused_in(exc)
            seconds = time.monotonic() - started
            if refused is not None and not isinstance(refused, egress.Unresolvable):
                return Outcome(None, str(refused)[:500], seconds, permanent=True)
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], seconds)
        seconds = time.monotonic() - started
        if 300 <= status < 400:
            return Outcome(status, "redirects are not followed", seconds)
        return Outcome(status, None if 200 <= status < 300 else f"HTTP {status}", seconds)

    def _record(self, delivery_id: str, outcome: Outcome) -> str | None:
        ATTEMPT_SECONDS.observe(outcome.seconds)
        now = utcnow()
        with self.sessions.begin() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:
                return None
            row.attempts += 1  # this round's budget (a redelivery starts it again)
            number = 1 + (
                session.scalar(
                    select(func.count())
                    .select_from(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id == delivery_id)
                )
                or 0
            )
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    number=number,
                    at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=round(outcome.seconds * 1000),
                )
            )
            row.last_status_code, row.last_error = outcome.status_code, outcome.error
            row.lease_owner = row.lease_until = None
            if outcome.ok:
                row.status, row.finished_at = "delivered", now
            elif outcome.permanent or row.attempts >= self.settings.max_attempts:
                row.status, row.finished_at = "dead", now
            else:
                row.next_attempt_at = now + timedelta(
                    seconds=backoff_s(self.settings, row.attempts)
                )
            status = row.status
        DELIVERIES.labels("retrying" if status == "pending" else status).inc()
        if status == "dead":
            log.warning(
                "webhook delivery dead", extra={"delivery": delivery_id, "error": outcome.error}
            )
        return status

    def run_once(self) -> int:
        """Claim what is due (one per worker) and send it in parallel; how many were sent."""
        claimed = self.claim(limit=self.settings.concurrency)
        for sent in [self._pool.submit(self.send, delivery_id) for delivery_id in claimed]:
            sent.result()
        return len(claimed)

    def step(self) -> int:
        return self.run_once()
