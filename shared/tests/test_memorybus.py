"""The in-memory bus keeps the real bus's promises (the same cases as test_bus.py, no server)."""

from __future__ import annotations

import logging
import threading
import time
from typing import ClassVar

import pytest

from chatlens.shared import logs, queues, schemas, topology
from chatlens.shared.handling import (
    PermanentError,
    PublishFailed,
    RpcError,
    RpcTimeout,
    TransientError,
)
from chatlens.shared.memorybus import InMemoryBus

INGEST = topology.INGEST_QUEUE.name
EMBED_RPC = topology.EMBEDDING_RPC.name
INFER_RPC = topology.INFERENCE_RPC.name


def ingest(job_id="job-1"):
    return schemas.IngestRequested(
        job_id=job_id,
        org_id="o",
        collection_id="c",
        upload_key="k",
        filename="f.txt",
        sha256="0" * 64,
        size=1,
    )


@pytest.fixture
def bus():
    return InMemoryBus()


def test_a_message_is_consumed_once_with_its_correlation_id_off_the_callers_thread(bus):
    seen = []
    consumer = bus.consumer(
        INGEST,
        lambda m, d: seen.append(
            (m, d, threading.current_thread().name, logs.get_correlation_id())
        ),
    ).start()
    with logs.correlation("corr-123"):
        bus.publish(ingest())
    bus.join()
    consumer.stop()
    [(message, delivery, thread, correlation)] = seen
    assert isinstance(message, schemas.IngestRequested) and message.job_id == "job-1"
    assert delivery.correlation_id == correlation == "corr-123"
    assert thread.startswith("memory-") and bus.depth(INGEST) == 0


def test_an_unroutable_message_is_refused(bus):
    class Stray(schemas.Message, register=False):
        type: ClassVar[str] = "nobody.listens"

    with pytest.raises(PublishFailed):
        bus.publish(Stray())


def test_a_poison_message_ends_in_the_dead_letter_queue_after_the_delivery_limit(bus):
    calls = []

    def handler(message, delivery):
        calls.append(delivery.delivery_count)
        raise RuntimeError("bug")

    consumer = bus.consumer(INGEST, handler).start()
    bus.publish(ingest())
    bus.join()
    consumer.stop()
    assert calls == list(range(topology.INGEST_QUEUE.delivery_limit + 1))
    assert [m.job_id for m in bus.dead_letters(INGEST)] == ["job-1"]


def test_a_permanent_error_is_dead_lettered_at_once_and_a_transient_one_retried(bus):
    calls = []

    def handler(message, delivery):
        calls.append(message.job_id)
        if message.job_id == "bad":
            raise PermanentError("wrong")
        if calls.count("flaky") < 3:
            raise TransientError("busy")

    consumer = bus.consumer(INGEST, handler).start()
    bus.publish(ingest("bad"))
    bus.publish(ingest("flaky"))
    bus.join()
    consumer.stop()
    assert calls.count("bad") == 1 and calls.count("flaky") == 3
    assert [m.job_id for m in bus.dead_letters(INGEST)] == ["bad"]


def test_an_undecodable_message_is_dead_lettered_without_calling_the_handler(bus):
    class Impostor(schemas.Message, register=False):  # the right routing key, the wrong body
        type: ClassVar[str] = schemas.IngestRequested.type
        nonsense: int = 1

    calls = []
    consumer = bus.consumer(INGEST, lambda m, d: calls.append(m)).start()
    bus.publish(Impostor())
    bus.join()
    consumer.stop()
    assert calls == [] and len(bus.queues[INGEST].dead) == 1


def test_rpc_round_trip_refusal_and_timeout(bus):
    def handler(request, delivery):
        if request.texts == ["bad"]:
            raise PermanentError("no", code="invalid_vector")
        return schemas.QueryEmbedded(model="m", vectors=schemas.Vectors(rows=0, dim=0, data=""))

    with pytest.raises(PublishFailed):  # no server yet: refused at once, no wait
        bus.rpc().call(schemas.EmbedQuery(texts=["x"]), timeout=5)
    server = bus.rpc_server(EMBED_RPC, handler, workers=2).start()
    assert bus.rpc().call(schemas.EmbedQuery(texts=["x"]), timeout=5).model == "m"
    with pytest.raises(RpcError) as refused:
        bus.rpc().call(schemas.EmbedQuery(texts=["bad"]), timeout=5)
    server.stop()
    assert refused.value.code == "invalid_vector"


def generate():
    return schemas.GenerateRequested(prompt="p", max_new_tokens=3)


def streaming(stopped: threading.Event | None = None, fail_after: int | None = None):
    def handler(request, delivery):
        try:
            for n in range(3):
                if fail_after is not None and n == fail_after:
                    raise PermanentError("model died", code="unknown_model")
                yield schemas.TokensGenerated(text=f"t{n}", tokens=1)
                time.sleep(0.05)
            return schemas.Generated(model="m", text="t0t1t2", tokens=3)
        finally:
            if stopped is not None:
                stopped.set()

    return handler


def test_a_stream_delivers_its_chunks_then_the_final_reply(bus):
    server = bus.rpc_server(INFER_RPC, streaming()).start()
    got = list(bus.rpc().stream(generate(), timeout=5))
    server.stop()
    assert [type(m).__name__ for m in got] == ["TokensGenerated"] * 3 + ["Generated"]


def test_a_plain_call_to_a_streaming_handler_gets_only_the_final_reply(bus):
    server = bus.rpc_server(INFER_RPC, streaming()).start()
    reply = bus.rpc().call(generate(), timeout=5)
    server.stop()
    assert isinstance(reply, schemas.Generated) and reply.text == "t0t1t2"


def test_a_failure_mid_stream_reaches_the_caller_after_the_chunks_sent(bus):
    server = bus.rpc_server(INFER_RPC, streaming(fail_after=2)).start()
    got = []
    with pytest.raises(RpcError) as refused:
        for message in bus.rpc().stream(generate(), timeout=5):
            got.append(message)
    server.stop()
    assert len(got) == 2 and refused.value.code == "unknown_model"


def test_a_caller_that_stops_reading_stops_the_handler(bus):
    stopped = threading.Event()
    server = bus.rpc_server(INFER_RPC, streaming(stopped)).start()
    stream = bus.rpc().stream(generate(), timeout=5)
    assert isinstance(next(stream), schemas.TokensGenerated)
    stream.close()
    assert stopped.wait(5)
    server.stop()


def test_index_messages_reach_the_replica_owning_their_collection():
    bus = InMemoryBus(index_replicas=3)
    owner = topology.index_replica("c", 3)
    finished = schemas.EmbeddingFinished(
        job_id="j", org_id="o", collection_id="c", batches=0, stats={}
    )
    bus.publish(finished)
    depths = {name: bus.depth(name) for name in bus.queues if name.startswith("index.ingest")}
    assert depths[f"index.ingest.r{owner}"] == 1 and sum(depths.values()) == 1


def test_a_declared_refusal_is_logged_as_the_callers_error_not_an_alarm(bus, caplog):
    caplog.set_level(logging.INFO, logger="chatlens.shared.bus")

    def handler(request, delivery):
        code = "version_not_found" if request.base == 9 else "corrupt_segment"
        raise PermanentError(f"no luck with {request.base}", code=code)

    server = bus.rpc_server(topology.INDEX_RPC.name, handler).start()
    for version in (9, 1):
        with pytest.raises(RpcError):
            bus.rpc().call(
                schemas.VersionsCompareRequested(
                    org_id="o", collection_id="c", base=version, other=0
                ),
                timeout=5,
            )
    server.stop()
    levels = {
        record.getMessage(): record.levelname
        for record in caplog.records
        if record.name == "chatlens.shared.bus"
    }
    assert levels == {"request refused": "INFO", "permanent failure; dead-lettered": "ERROR"}


def test_a_broadcast_reaches_every_subscriber_once_and_needs_none(bus):
    bus.publish(schemas.AccessRevoked(sessions={"before": 1}))  # nobody listens: no error
    heard: dict[str, list] = {"a": [], "b": []}
    connected = []
    subscribers = [
        bus.subscriber(
            lambda m, d, name=name: heard[name].append(m),
            on_connect=lambda name=name: connected.append(name),
        ).start()
        for name in heard
    ]
    bus.publish(schemas.AccessRevoked(sessions={"s": 1}))
    bus.join()
    for subscriber in subscribers:
        subscriber.stop()
    assert {name: [list(m.sessions) for m in ms] for name, ms in heard.items()} == {
        "a": [["s"]],
        "b": [["s"]],
    }
    assert connected == ["a", "b"]


def test_rpc_times_out_when_its_server_does_not_answer_in_time(bus):
    server = bus.rpc_server(EMBED_RPC, lambda request, delivery: time.sleep(1)).start()
    with pytest.raises(RpcTimeout):
        bus.rpc().call(schemas.EmbedQuery(texts=["x"]), timeout=0.2)
    server.stop()


def test_a_handler_is_told_which_delivery_is_the_last_before_the_dead_letter_queue():
    """As RabbitMQ counts returns (x-delivery-count) against x-delivery-limit."""
    bus = InMemoryBus("test")
    seen = []

    def handler(message, delivery):
        seen.append((delivery.delivery_count, delivery.last))
        raise RuntimeError("keeps failing")

    bus.consumer(queues.INGEST, handler).start()
    bus.publish(
        schemas.IngestRequested(
            job_id="j",
            org_id="o",
            collection_id="c",
            upload_key="k",
            filename="f",
            sha256="0" * 64,
            size=1,
        )
    )
    limit = topology.delivery_limit(queues.INGEST)
    deadline = time.monotonic() + 10
    while len(seen) < limit + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [(n, n == limit) for n in range(limit + 1)]
    assert topology.delivery_limit(topology.INDEX_QUEUE.name + ".r1") == 10
    assert topology.delivery_limit(queues.INDEX_RPC) is None
