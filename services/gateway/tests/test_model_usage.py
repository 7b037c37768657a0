"""Usage per org, model and day on SQLite, MariaDB and PostgreSQL: requests from many threads at
once (the first of a day racing to insert its row) are each counted once; failures add no
tokens; days and orgs are kept apart; a stream its client stops counts what it generated."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chatlens.gateway.application import usage
from chatlens.gateway.application.errors import AppError
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.shared import schemas

DAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def backends(app, when: datetime = DAY) -> Backends:
    return Backends(
        rpc=None,  # type: ignore[arg-type]  (no request leaves the gateway here)
        sessions=app.extensions["chatlens.sessions"],
        settings=app.config["CHATLENS_SETTINGS"],
        clock=lambda: when,
    )


def test_concurrent_requests_are_each_counted_once(app):
    org = Caller(org_id="org-usage")
    start = threading.Barrier(24)

    def answered():
        start.wait()
        usage.record(backends(app), org, "team-llm", prompt_tokens=30, completion_tokens=7)

    def failed():
        start.wait()
        usage.record(backends(app), org, "team-llm", prompt_tokens=30, failed=True)

    threads = [threading.Thread(target=answered) for _ in range(18)]
    threads += [threading.Thread(target=failed) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    totals, days = usage.report(backends(app), org)
    assert totals == [usage.Usage("team-llm", None, 18, 6, 540, 126)]
    assert [d.day for d in days] == [date(2026, 12, 7)]


def test_days_and_orgs_are_kept_apart_and_the_report_takes_a_period(app):
    org, other = Caller(org_id="org-a"), Caller(org_id="org-b")
    usage.record(
        backends(app, datetime(2026, 12, 6, 23, 59, tzinfo=UTC)),
        org,
        "m",
        prompt_tokens=1,
        completion_tokens=1,
    )
    usage.record(backends(app), org, "m", prompt_tokens=2, completion_tokens=2)
    usage.record(backends(app), org, None, failed=True)  # named no model: the default failed
    usage.record(backends(app), other, "m", prompt_tokens=100, completion_tokens=100)

    totals, days = usage.report(backends(app), org)
    assert totals == [
        usage.Usage("(default)", None, 0, 1, 0, 0),
        usage.Usage("m", None, 2, 0, 3, 3),
    ]
    assert [(d.model, d.day) for d in days] == [
        ("(default)", date(2026, 12, 7)),
        ("m", date(2026, 12, 7)),
        ("m", date(2026, 12, 6)),
    ]
    since, _ = usage.report(backends(app), org, since=date(2026, 12, 7))
    assert [(t.model, t.requests, t.failed) for t in since] == [("(default)", 0, 1), ("m", 1, 0)]
    until, _ = usage.report(backends(app), org, until=date(2026, 12, 6))
    assert until == [usage.Usage("m", None, 1, 0, 1, 1)]


class StreamingRpc:
    """``Rpc.stream`` alone: three pieces of one token each, then the reply, or a failure after
    the first piece."""

    def __init__(self, breaks: bool = False) -> None:
        self.breaks = breaks

    def stream(self, request):
        def rest():
            for piece in ("It", " is", " Lisbon"):
                yield schemas.TokensGenerated(text=piece, tokens=1)
                if self.breaks:
                    raise AppError("inference_failed", "the model's worker died")
            return  # the reply is not reached in these tests

        return schemas.GenerationStarted(model="m", prompt_tokens=40), rest()


def test_a_stream_its_client_stops_counts_the_tokens_generated_until_then(app):
    org = Caller(org_id="org-stream")
    request = schemas.GenerateRequested(prompt="Where?", model="m")
    _, rest = usage.stream(replace(backends(app), rpc=StreamingRpc()), org, request)
    assert isinstance(next(rest), schemas.TokensGenerated)
    assert isinstance(next(rest), schemas.TokensGenerated)
    rest.close()  # the stop button

    _, rest = usage.stream(replace(backends(app), rpc=StreamingRpc(breaks=True)), org, request)
    next(rest)
    with pytest.raises(AppError):
        next(rest)

    totals, _ = usage.report(backends(app), org)
    assert totals == [usage.Usage("m", None, 1, 1, 40, 2)]  # the stopped one; the broken failed
