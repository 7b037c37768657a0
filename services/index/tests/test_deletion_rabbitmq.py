"""Deletion, purge and clean-up through the real index service on a throw-away RabbitMQ vhost."""

from __future__ import annotations

import queue
import time

import numpy as np
import pytest

from chatlens.index.config import IndexSettings
from chatlens.index.service import build
from chatlens.index.storage.layout import Layout
from chatlens.shared import topology
from chatlens.shared.bus import Bus, RpcError
from chatlens.shared.schemas import (
    CollectionDeleted,
    IndexUpdated,
    JobAbandoned,
    MessagesDeleteRequested,
    SearchRequested,
)

DIM = 384
WHERE = {"org_id": "org1", "collection_id": "coll1"}


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def running(amqp_url, tmp_path):
    settings = IndexSettings(
        amqp_url=amqp_url, data_dir=tmp_path, health_port=0, warm_on_start=False
    )
    bus = Bus(amqp_url, "index-test")
    bus.declare()
    service = build(settings, bus).start()
    events: queue.Queue = queue.Queue()
    gateway = bus.consumer(
        topology.GATEWAY_JOBS_QUEUE.name, lambda message, delivery: events.put(message)
    ).start()
    wait_for(lambda: service.ready() and gateway.ready, what="consumers")
    yield bus, events, Layout(settings.index_dir)
    gateway.stop()
    service.stop()
    bus.close()


def sealed(events: queue.Queue) -> IndexUpdated:
    while True:
        message = events.get(timeout=30)
        if isinstance(message, IndexUpdated):
            return message


def search_ids(bus) -> set[str]:
    answer = bus.rpc().call(SearchRequested(**WHERE, vector=np.ones(DIM).tolist(), k=100))
    return {hit.message.message_id for hit in answer.hits}


def test_a_chat_is_deleted_and_purged_over_rpc(running, make_text_job):
    bus, events, layout = running
    job = make_text_job(
        "job-1",
        [
            {"text": "the vault code is 7741", "chat": "Secrets"},
            {"text": "standup at ten", "chat": "Team"},
        ],
        dim=DIM,
    )
    for message in job.all_messages():
        bus.publish(message)
    assert sealed(events).version == 1

    deleted = bus.rpc().call(
        MessagesDeleteRequested(**WHERE, chat="Secrets", purge=True), timeout=60
    )
    assert (deleted.version, deleted.removed, deleted.purged) == (2, 1, 1)
    assert search_ids(bus) == {"job-1-1"}
    with pytest.raises(RpcError) as refused:
        bus.rpc().call(MessagesDeleteRequested(**WHERE, chat="Secrets"), timeout=30)
    assert refused.value.code == "chat_not_found"


def test_abandoned_jobs_and_deleted_collections_are_cleaned_up(running, make_job):
    bus, events, layout = running
    done = make_job("job-1", ["m1", "m2"], dim=DIM)
    for message in done.all_messages():
        bus.publish(message)
    sealed(events)
    failing = make_job("job-2", [f"n{i}" for i in range(9)], dim=DIM, batch_size=4)
    bus.publish(failing.batches()[0])
    staging = layout.staging("org1", "coll1", "job-2")
    wait_for(staging.exists, what="the batch staged")
    bus.publish(JobAbandoned(job_id="job-2", **WHERE))
    wait_for(lambda: not staging.exists(), what="the staging removed")

    bus.publish(CollectionDeleted(**WHERE))
    path = layout.collection("org1", "coll1")
    wait_for(lambda: not path.exists(), what="the collection removed")
    with pytest.raises(RpcError) as refused:
        search_ids(bus)
    assert refused.value.code == "not_found"
