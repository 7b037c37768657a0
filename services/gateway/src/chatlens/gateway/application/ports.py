"""What the use cases talk to, passed in rather than reached for: the RPC port, the database's
sessions, the settings and the clock. The views build one :class:`Backends` per request from the
app's composition root (``chatlens.gateway.api.deps``); tests build their own. Nothing here knows
of Flask: the HTTP layer hands in its ``Server-Timing`` timer as ``Rpc.timer``."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from chatlens.gateway.application.capacity import GenerationSlots
from chatlens.gateway.application.errors import (
    RETRY_AFTER_S,
    Unavailable,
    UpstreamFailed,
    from_rpc,
)
from chatlens.gateway.config import GatewaySettings
from chatlens.shared import schemas
from chatlens.shared.handling import BrokerUnavailable, PublishFailed, RpcError, RpcTimeout

Timer = Callable[[str], AbstractContextManager[None]]
R = TypeVar("R", bound=schemas.Message)


def untimed(step: str) -> AbstractContextManager[None]:
    return nullcontext()


class RpcClient(Protocol):
    def call(self, request: schemas.Message, timeout: float = 30.0) -> schemas.Message: ...

    def stream(
        self, request: schemas.Message, timeout: float = 30.0
    ) -> Generator[schemas.Message, None, None]: ...


class Bus(Protocol):
    """What the use cases need of a bus (``chatlens.shared.bus.Bus`` or the in-memory one)."""

    def rpc(self) -> RpcClient: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Caller:
    """Who asks: every use case works inside ``org_id``."""

    org_id: str
    user_id: str = ""  # empty only in tests that act for no one in particular
    role: str | None = None


class Rpc:
    """Requests to the services behind the bus, their refusals as application errors."""

    def __init__(self, bus: Bus, settings: GatewaySettings, timer: Timer = untimed) -> None:
        self.bus, self.settings, self.timer = bus, settings, timer

    def call(
        self,
        request: schemas.Message,
        reply: type[R],
        timeout: float | None = None,
        *,
        service: str = "search",
    ) -> R:
        """Send ``request`` and wait for its ``reply`` (``Unavailable`` when nobody answers in
        time, ``UpstreamFailed`` when the answer is of another type)."""
        timeout = timeout or self.settings.search_timeout_s
        with self._translated(service), self.timer(request.type):
            answer = self.bus.rpc().call(request, timeout=timeout)
        if not isinstance(answer, reply):
            raise UpstreamFailed(
                f"{service}_failed",
                f"{request.type} was answered with {answer.type}, not {reply.type}",
            )
        return answer

    def inference(
        self, request: schemas.Message, reply: type[R], timeout: float | None = None
    ) -> R:
        return self.call(
            request, reply, timeout or self.settings.generation_timeout_s, service="inference"
        )

    def stream(
        self, request: schemas.GenerateRequested
    ) -> tuple[schemas.GenerationStarted, Generator[schemas.Message, None, None]]:
        """Start a streamed generation: its first reply (the request passed the inference
        service's checks, or its refusal is raised now, while a status can still say so) and an
        iterator over the rest (``TokensGenerated`` pieces, then ``Generated``; a later failure
        is raised from it; closing it stops the generation)."""
        messages = self.bus.rpc().stream(request, timeout=self.settings.generation_timeout_s)
        with self._translated("inference"):
            started = next(messages)
        if isinstance(started, schemas.Generated):  # a server that does not stream: at once
            final = started
            started = schemas.GenerationStarted(
                model=final.model, prompt_tokens=final.prompt_tokens
            )
            return started, self._rest(m for m in [final])
        if not isinstance(started, schemas.GenerationStarted):
            raise UpstreamFailed("inference_failed", f"a stream began with {started.type}")
        return started, self._rest(messages)

    def _rest(
        self, messages: Generator[schemas.Message, None, None]
    ) -> Generator[schemas.Message, None, None]:
        """The stream's replies; ``Generated`` carries the whole text, so what no piece sent
        (a server that does not stream) comes as one last piece before the final reply."""
        sent, sent_tokens = "", 0
        with self._translated("inference"), closing(messages):  # closing cancels the stream
            for message in messages:
                if isinstance(message, schemas.TokensGenerated):
                    sent, sent_tokens = sent + message.text, sent_tokens + message.tokens
                elif (
                    isinstance(message, schemas.Generated)
                    and len(message.text) > len(sent)
                    and message.text.startswith(sent)
                ):
                    yield schemas.TokensGenerated(
                        text=message.text[len(sent) :], tokens=max(message.tokens - sent_tokens, 0)
                    )
                yield message

    @staticmethod
    @contextmanager
    def _translated(service: str) -> Iterator[None]:
        try:
            yield
        except (RpcTimeout, PublishFailed, BrokerUnavailable) as exc:
            # Down (nothing consumes its queue: refused at once) or late: worth a retry soon.
            raise Unavailable(
                f"{service}_unavailable",
                f"the {service} service did not answer: {exc}",
                retry_after=RETRY_AFTER_S,
            ) from None
        except RpcError as exc:
            raise from_rpc(exc.code, str(exc), service) from None


class Audit(Protocol):
    def record(
        self, event: str, *, org_id: str, actor_id: str, target: str | None = None, **details: Any
    ) -> None: ...


@dataclass(frozen=True)
class Backends:
    rpc: Rpc
    sessions: Callable[[], AbstractContextManager[Session]]
    settings: GatewaySettings
    clock: Callable[[], datetime] = utc_now
    upload_dir: Path | None = None  # the upload store (raw files kept until processed)
    wake_outbox: Callable[[], None] = lambda: None  # after a commit that staged bus messages
    audit: Audit | None = None
    # Generations this process carries at once (application.capacity; the app sets the bound).
    generations: GenerationSlots = field(default_factory=lambda: GenerationSlots(64))
    # Spends completion tokens from the current request's daily token quota, if its route has
    # one (the HTTP layer's rate limiter; application.usage calls it as it records a generation).
    spend_tokens: Callable[[int], None] = lambda tokens: None
