"""Analytics through the real bus and the real index service: a generated history ingested over
RabbitMQ, each report asked by RPC, every overview and people number checked against the
plain-Python reference."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from analytics_data import generate
from analytics_reference import overview as expected_overview
from analytics_reference import people as expected_people

from chatlens.index.config import IndexSettings
from chatlens.index.service import build
from chatlens.shared import topology
from chatlens.shared.bus import Bus, RpcError
from chatlens.shared.schemas import AnalyticsRequested, IndexUpdated

from .test_rabbitmq import wait_for

DIM = 16


@pytest.fixture
def indexed(amqp_url, tmp_path, job_of):
    """The index service on a throw-away vhost, holding a 2,000-message history in two uploads."""
    settings = IndexSettings(amqp_url=amqp_url, data_dir=tmp_path, health_port=0, vector_dim=DIM)
    bus = Bus(amqp_url, "analytics-test")
    bus.declare()
    service = build(settings, bus).start()
    updated: list[IndexUpdated] = []
    gateway = bus.consumer(
        topology.GATEWAY_JOBS_QUEUE.name,
        lambda message, _: updated.append(message) if isinstance(message, IndexUpdated) else None,
    ).start()
    wait_for(lambda: service.ready() and gateway.ready, what="consumers")
    history = generate(2000, seed=3)
    for number, part in enumerate((history[:1200], history[1200:])):
        for message in job_of(f"job{number}", part, batch_size=400).all_messages():
            bus.publish(message)
        wait_for(lambda n=number: len(updated) > n, timeout=60, what=f"version {number + 1}")
    yield bus, history
    gateway.stop()
    service.stop()
    bus.close()


def ask(bus: Bus, report: str, **fields):
    return bus.rpc().call(
        AnalyticsRequested(org_id="org1", collection_id="coll1", report=report, **fields),
        timeout=30,
    )


def test_the_numbers_over_rpc_are_the_independent_counts(indexed):
    bus, history = indexed
    got = ask(bus, "overview", timezone="Europe/Berlin")
    assert got.version == 2
    want = expected_overview(history, "Europe/Berlin")
    for name in (
        "messages",
        "words",
        "participants",
        "chats",
        "active_days",
        "span_days",
        "media",
        "links",
        "edited",
        "deleted",
        "system_events",
    ):
        assert got.result[name] == want[name], name
    assert got.result["busiest_day"]["day"] == want["busiest_day"][0].isoformat()
    assert got.result["longest_streak"]["days"] == want["longest_streak"][0]
    assert got.result["longest_silence"]["seconds"] == want["longest_silence"][1]
    people = ask(bus, "people", timezone="Europe/Berlin", gap_minutes=20).result["people"]
    expected = expected_people(history, "Europe/Berlin", timedelta(minutes=20))
    for person in people:
        for name, value in expected[person["sender"]].items():
            if isinstance(value, datetime):
                assert datetime.fromisoformat(person[name]) == value, name
            else:
                assert person[name] == pytest.approx(value), (person["sender"], name)
    first = ask(bus, "overview", version=1).result["messages"]
    assert first == len([m for m in history[:1200] if m.kind not in ("system", "service")])


def test_refusals_come_back_with_their_code(indexed):
    bus, _ = indexed
    with pytest.raises(RpcError) as refused:
        ask(bus, "overview", timezone="Nowhere/Atlantis")
    assert refused.value.code == "invalid_timezone"
    with pytest.raises(RpcError) as refused:
        ask(bus, "overview", version=9)
    assert refused.value.code == "version_not_found"
