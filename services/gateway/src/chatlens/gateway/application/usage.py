"""Generation, counted (issue 16): every generation a use case runs goes through here, so the
org's usage per model and UTC day (requests answered and failed, prompt and completion tokens)
is recorded for the local model and org endpoints alike. A failed request adds to ``failed``
only: no tokens, and (the callers' part) no answer recorded."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from chatlens.gateway.application.capacity import GenerationBusy
from chatlens.gateway.application.errors import AppError
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import ModelUsage
from chatlens.shared import schemas

DEFAULT = "(default)"  # a failed request that named no model: the service's default failed
ATTEMPTS = 5


@dataclass(frozen=True)
class Usage:
    model: str
    day: date | None  # None: the total over the days asked for
    requests: int
    failed: int
    prompt_tokens: int
    completion_tokens: int


def record(
    backends: Backends,
    caller: Caller,
    model: str | None,
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    failed: bool = False,
) -> None:
    """Add one request (answered or failed) to the org's count for ``model`` today, and spend
    its completion tokens from the request's daily token quota (``Backends.spend_tokens``)."""
    if not failed:
        backends.spend_tokens(completion_tokens)
    key = {
        "org_id": caller.org_id,
        "model": (model or DEFAULT)[:200],
        "day": backends.clock().date(),
    }
    adds = {
        "requests": 0 if failed else 1,
        "failed": 1 if failed else 0,
        "prompt_tokens": 0 if failed else prompt_tokens,
        "completion_tokens": 0 if failed else completion_tokens,
    }
    for attempt in range(1, ATTEMPTS + 1):
        with backends.sessions() as session:
            try:
                changed = session.execute(
                    update(ModelUsage)
                    .where(*(getattr(ModelUsage, k) == v for k, v in key.items()))
                    .values({name: getattr(ModelUsage, name) + n for name, n in adds.items()})
                )
                if changed.rowcount == 0:  # type: ignore[attr-defined]
                    session.add(ModelUsage(**key, **adds))
                session.commit()
                return
            except (IntegrityError, OperationalError) as exc:
                # The first requests of a day race to insert its row: the loser's insert is a
                # duplicate (IntegrityError) or, on MariaDB, a deadlock; it adds instead.
                session.rollback()
                if attempt == ATTEMPTS or not _raced(exc):
                    raise
        time.sleep(0.01 * attempt)


def _raced(exc: IntegrityError | OperationalError) -> bool:
    """A duplicate key, or a deadlock or lock time-out (MariaDB 1213/1205, PostgreSQL 40P01/
    40001): worth another try. Anything else (the database is away) is not."""
    if isinstance(exc, IntegrityError):
        return True
    orig = exc.orig
    errno = orig.args[0] if orig is not None and orig.args else None
    return errno in (1205, 1213) or getattr(orig, "sqlstate", None) in ("40P01", "40001")


def generate(
    backends: Backends, caller: Caller, request: schemas.GenerateRequested
) -> schemas.Generated:
    """The whole generation, waited for, and counted (in one of this process's generation slots:
    :class:`~chatlens.gateway.application.capacity.GenerationBusy` when none is free)."""
    try:
        with backends.generations.held():
            generated = backends.rpc.inference(request, schemas.Generated)
    except GenerationBusy:
        raise  # refused before anything started: nothing to count
    except AppError:
        record(backends, caller, request.model, failed=True)
        raise
    record(
        backends,
        caller,
        generated.model,
        prompt_tokens=generated.prompt_tokens,
        completion_tokens=generated.tokens,
    )
    return generated


def stream(
    backends: Backends, caller: Caller, request: schemas.GenerateRequested
) -> tuple[schemas.GenerationStarted, Generator[schemas.Message, None, None]]:
    """``Rpc.stream``, counted: the request when its final reply arrives, or when its client
    stops it (the stop button, a client that leaves: the tokens generated until then count), a
    failure when the stream is refused or breaks. The stream holds a generation slot until it
    ends or its client leaves."""
    release = backends.generations.take()
    try:
        started, rest = backends.rpc.stream(request)
    except AppError:
        release()
        record(backends, caller, request.model, failed=True)
        raise
    except BaseException:
        release()
        raise
    return started, backends.generations.holding(
        release, _counted(backends, caller, request.model or started.model, started, rest)
    )


def _counted(
    backends: Backends,
    caller: Caller,
    model: str,
    started: schemas.GenerationStarted,
    rest: Generator[schemas.Message, None, None],
) -> Generator[schemas.Message, None, None]:
    final, generated, stopped = None, 0, False
    try:
        for message in rest:
            if isinstance(message, schemas.Generated):
                final = message
            elif isinstance(message, schemas.TokensGenerated):
                generated += message.tokens
            yield message
    except GeneratorExit:  # closed by its caller: the client stopped it or left
        stopped = True
        raise
    finally:
        rest.close()
        if final is not None:
            record(
                backends,
                caller,
                final.model,
                prompt_tokens=final.prompt_tokens,
                completion_tokens=final.tokens,
            )
        elif stopped:
            record(
                backends,
                caller,
                model,
                prompt_tokens=started.prompt_tokens,
                completion_tokens=generated,
            )
        else:
            record(backends, caller, model, failed=True)


def summarize(
    backends: Backends, caller: Caller, request: schemas.SummarizeRequested, timeout: float
) -> schemas.Summarized:
    """A summary (all its map and reduce steps: one request), counted, in a generation slot."""
    try:
        with backends.generations.held():
            done = backends.rpc.inference(request, schemas.Summarized, timeout)
    except GenerationBusy:
        raise
    except AppError:
        record(backends, caller, request.model, failed=True)
        raise
    record(
        backends,
        caller,
        done.model,
        prompt_tokens=done.prompt_tokens,
        completion_tokens=done.tokens,
    )
    return done


def report(
    backends: Backends, caller: Caller, since: date | None = None, until: date | None = None
) -> tuple[list[Usage], list[Usage]]:
    """The org's usage from ``since`` to ``until`` (UTC days, both included): totals per model,
    and the rows per day and model (newest first)."""
    query = select(ModelUsage).where(ModelUsage.org_id == caller.org_id)
    if since is not None:
        query = query.where(ModelUsage.day >= since)
    if until is not None:
        query = query.where(ModelUsage.day <= until)
    with backends.sessions() as session:
        rows = session.scalars(query.order_by(ModelUsage.day.desc(), ModelUsage.model)).all()
        days = [
            Usage(r.model, r.day, r.requests, r.failed, r.prompt_tokens, r.completion_tokens)
            for r in rows
        ]
    totals: dict[str, list[int]] = {}
    for row in days:
        sums = totals.setdefault(row.model, [0, 0, 0, 0])
        for i, n in enumerate((row.requests, row.failed, row.prompt_tokens, row.completion_tokens)):
            sums[i] += n
    return [Usage(model, None, *sums) for model, sums in sorted(totals.items())], days
