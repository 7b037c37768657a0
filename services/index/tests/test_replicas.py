"""The index as N replicas: each owns the collections the shared hash gives it, consumes its own
queues, refuses what is not its own, and reloads its shards from disk when it restarts."""

from __future__ import annotations

import queue
import time

import pytest

from chatlens.index.config import IndexSettings
from chatlens.index.replica import Ownership, guarded, owned_collections, warm
from chatlens.index.service import build
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared import topology
from chatlens.shared.bus import Bus, Delivery, PermanentError, PublishFailed
from chatlens.shared.schemas import IndexUpdated, SearchRequested

DIM = 384
DELIVERY = Delivery(queue="index.rpc.r0", redelivered=False, delivery_count=0, correlation_id=None)


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def owned_by(replica: int, replicas: int = 2, count: int = 1) -> list[str]:
    ids = (f"coll{n}" for n in range(1000))
    return [cid for cid in ids if topology.index_replica(cid, replicas) == replica][:count]


def test_a_replica_refuses_a_collection_it_does_not_own():
    [mine], [theirs] = owned_by(0), owned_by(1)
    handle = guarded(lambda message, delivery: "answered", Ownership(0, 2))
    assert (
        handle(SearchRequested(org_id="o", collection_id=mine, query="x"), DELIVERY) == "answered"
    )
    for message in (
        SearchRequested(org_id="o", collection_id=theirs, query="x"),
        SearchRequested(org_id="o", collection_id=mine, collection_ids=[theirs], query="x"),
    ):
        with pytest.raises(PermanentError) as refused:
            handle(message, DELIVERY)
        assert refused.value.code == "wrong_replica"


def test_warming_loads_only_the_owned_collections(layout, make_job, run_messages):
    mine, theirs = owned_by(0, count=2), owned_by(1, count=1)
    for n, cid in enumerate(mine + theirs):
        run_messages(
            make_job(
                f"j{n}", [f"m{n}-{i}" for i in range(5)], collection_id=cid, seed=n
            ).all_messages()
        )
    ownership = Ownership(0, 2)
    assert owned_collections(layout, ownership) == [("org1", cid) for cid in sorted(mine)]
    cache = SegmentCache(64)
    warmed = warm(layout, cache, ownership)
    assert (warmed.collections, warmed.segments, warmed.messages) == (2, 2, 10)
    assert warm(Layout(layout.root / "empty"), SegmentCache(4), ownership).collections == 0


@pytest.fixture
def replicas(amqp_url, tmp_path):
    """Two index replicas sharing one INDEX_DIR, a bus routing to them, and the gateway's events."""
    bus = Bus(amqp_url, "index-test", index_replicas=2)
    bus.declare()
    started = []

    def start(replica: int):
        settings = IndexSettings(
            amqp_url=amqp_url,
            data_dir=tmp_path,
            health_port=0,
            index_replicas=2,
            index_replica=replica,
        )
        own_bus = Bus(amqp_url, f"index-{replica}", index_replicas=2)
        service = build(settings, own_bus).start()
        wait_for(service.ready, what=f"replica {replica}")
        started.append((service, own_bus))
        return service

    events: queue.Queue = queue.Queue()
    gateway = bus.consumer(
        topology.GATEWAY_JOBS_QUEUE.name, lambda message, delivery: events.put(message)
    ).start()
    wait_for(lambda: gateway.ready, what="events consumer")
    yield bus, start, events
    gateway.stop()
    for service, own_bus in started:
        service.stop()
        own_bus.close()
    bus.close()


def updated(events: queue.Queue) -> IndexUpdated:
    while True:
        message = events.get(timeout=30)
        if isinstance(message, IndexUpdated):
            return message


def test_two_replicas_ingest_and_search_their_own_collections_and_reload_after_restart(
    replicas, make_job
):
    bus, start, events = replicas
    start(0)
    second = start(1)
    [a], [b] = owned_by(0), owned_by(1)
    jobs = {
        cid: make_job(
            f"job-{cid}",
            [f"{cid}-m{i}" for i in range(12)],
            dim=DIM,
            collection_id=cid,
            seed=n,
            batch_size=5,
        )
        for n, cid in enumerate((a, b))
    }
    for job in jobs.values():
        for message in job.all_messages():
            bus.publish(message)
    assert {updated(events).collection_id for _ in jobs} == {a, b}

    def top(cid: str) -> str:
        vector = jobs[cid].vectors[f"{cid}-m7"].tolist()
        answer = bus.rpc().call(
            SearchRequested(org_id="org1", collection_id=cid, vector=vector, k=1), timeout=20
        )
        return answer.hits[0].message.message_id

    assert (top(a), top(b)) == (f"{a}-m7", f"{b}-m7")
    # A replica that restarts reloads its shards from disk and answers as before.
    second.stop()
    with pytest.raises(PublishFailed):  # nobody consumes replica 1's queue now: refused at once
        bus.rpc().call(
            SearchRequested(org_id="org1", collection_id=b, query="x", mode="keyword"), timeout=1
        )
    restarted = start(1)
    assert restarted is not second
    assert top(b) == f"{b}-m7"
    assert top(a) == f"{a}-m7"
