"""The bus against a real RabbitMQ, in a throw-away vhost per test."""

import shutil
import subprocess
import threading
import time
from typing import ClassVar

import pytest

from chatlens.shared import logs, schemas, topology
from chatlens.shared.bus import (
    Bus,
    PermanentError,
    PublishFailed,
    RpcError,
    RpcTimeout,
    TransientError,
)
from chatlens.shared.testing import queue_depths


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


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def run_consumer(bus, queue, handler, **kwargs):
    consumer = bus.consumer(queue, handler, **kwargs).start()
    assert wait_for(lambda: consumer.ready)
    return consumer


def test_a_message_is_consumed_once_with_its_correlation_id_off_the_io_thread(bus, amqp_url):
    seen = []

    def handler(message, delivery):
        seen.append((message, delivery, threading.current_thread().name, logs.get_correlation_id()))

    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, handler)
    with logs.correlation("corr-123"):
        bus.publish(ingest())
    assert wait_for(lambda: seen)
    time.sleep(0.5)
    consumer.stop()
    [(message, delivery, thread, correlation)] = seen
    assert message.job_id == "job-1" and isinstance(message, schemas.IngestRequested)
    assert delivery.correlation_id == correlation == "corr-123"
    assert thread.startswith("work-")
    assert queue_depths(amqp_url)[topology.INGEST_QUEUE.name] == 0


def test_an_unroutable_message_is_refused_by_the_broker(bus, amqp_url):
    class Stray(schemas.Message, register=False):
        type: ClassVar[str] = "nobody.listens"

    with pytest.raises(PublishFailed):
        bus.publish(Stray())


def test_a_poison_message_ends_in_the_dead_letter_queue_after_the_delivery_limit(bus, amqp_url):
    calls = []

    def handler(message, delivery):
        calls.append((delivery.delivery_count, delivery.last))
        raise RuntimeError("this message always crashes the handler")

    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, handler)
    bus.publish(ingest())
    dlq = topology.INGEST_QUEUE.dead_letter_queue
    assert wait_for(lambda: queue_depths(amqp_url).get(dlq) == 1, timeout=60)
    consumer.stop()
    # The first delivery plus `delivery_limit` redeliveries, then never again; the handler is
    # told which one is the last (Delivery.last), as RabbitMQ counts them.
    limit = topology.INGEST_QUEUE.delivery_limit
    assert calls == [(n, n == limit) for n in range(limit + 1)]
    assert queue_depths(amqp_url)[topology.INGEST_QUEUE.name] == 0


def test_a_permanent_error_dead_letters_at_once(bus, amqp_url):
    calls = []

    def handler(message, delivery):
        calls.append(1)
        raise PermanentError("bad input")

    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, handler)
    bus.publish(ingest())
    dlq = topology.INGEST_QUEUE.dead_letter_queue
    assert wait_for(lambda: queue_depths(amqp_url).get(dlq) == 1)
    consumer.stop()
    assert calls == [1]


def test_an_undecodable_message_is_dead_lettered_without_calling_the_handler(bus, amqp_url):
    class Impostor(schemas.Message, register=False):  # the right routing key, the wrong body
        type: ClassVar[str] = schemas.IngestRequested.type
        nonsense: int = 1

    calls = []
    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, lambda m, d: calls.append(m))
    bus.publish(Impostor())
    dlq = topology.INGEST_QUEUE.dead_letter_queue
    assert wait_for(lambda: queue_depths(amqp_url).get(dlq) == 1)
    consumer.stop()
    assert calls == []


def test_the_time_a_message_waited_in_its_quorum_queue_is_measured_by_its_consumer(bus):
    """RabbitMQ reports no head-message timestamp for quorum queues, so the alert on messages
    waiting too long reads what the consumers measure (chatlens_bus_message_wait_seconds)."""
    from prometheus_client import REGISTRY

    queue = topology.INGEST_QUEUE.name
    labels = {"queue": queue}

    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(f"chatlens_bus_message_wait_seconds_{name}", labels) or 0

    count, total = sample("count"), sample("sum")
    bus.publish(ingest())
    time.sleep(2.5)  # nobody consumes it yet
    seen = []
    consumer = run_consumer(bus, queue, lambda message, delivery: seen.append(message))
    assert wait_for(lambda: seen)
    consumer.stop()
    assert sample("count") == count + 1
    assert 1.5 <= sample("sum") - total < 60  # the AMQP timestamp has whole seconds


def test_transient_errors_are_retried_with_backoff_then_succeed(bus, amqp_url):
    calls = []

    def handler(message, delivery):
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise TransientError("database busy")

    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, handler)
    bus.publish(ingest())
    assert wait_for(lambda: len(calls) == 3)
    time.sleep(0.5)
    consumer.stop()
    assert len(calls) == 3  # retried in-process, then acked: no redelivery
    assert calls[2] - calls[1] >= calls[1] - calls[0] > 0
    depths = queue_depths(amqp_url)
    assert depths[topology.INGEST_QUEUE.name] == 0
    assert depths[topology.INGEST_QUEUE.dead_letter_queue] == 0


def test_a_handler_slower_than_the_heartbeat_keeps_its_connection_and_acks_once(amqp_url):
    bus = Bus(amqp_url + "?heartbeat=1", "test")
    bus.declare()
    calls = []

    def slow(message, delivery):
        calls.append(delivery.redelivered)
        time.sleep(4)

    consumer = run_consumer(bus, topology.INGEST_QUEUE.name, slow)
    bus.publish(ingest())
    assert wait_for(lambda: calls)
    time.sleep(6)
    consumer.stop()
    assert calls == [False]
    assert queue_depths(amqp_url)[topology.INGEST_QUEUE.name] == 0


def test_rpc_round_trip_and_errors(bus, amqp_url):
    def handler(message, delivery):
        if message.texts == ["refuse"]:
            raise PermanentError("no such thing", code="not_found")
        import numpy as np

        return schemas.QueryEmbedded(
            model="m",
            vectors=schemas.Vectors.from_array(
                np.full((len(message.texts), 3), 0.5, dtype="float32")
            ),
        )

    server = bus.rpc_server(topology.EMBEDDING_RPC.name, handler).start()
    assert wait_for(lambda: server.ready)
    reply = bus.rpc().call(schemas.EmbedQuery(texts=["a", "b"]), timeout=10)
    assert reply.vectors.to_array().shape == (2, 3)
    with pytest.raises(RpcError) as refused:
        bus.rpc().call(schemas.EmbedQuery(texts=["refuse"]), timeout=10)
    assert refused.value.code == "not_found"
    server.stop()


def test_rpc_to_a_service_that_is_down_fails_at_once_not_at_its_deadline(bus, amqp_url):
    started = time.monotonic()
    with pytest.raises(PublishFailed, match="nothing consumes embedding.rpc"):
        bus.rpc().call(schemas.EmbedQuery(texts=["x"]), timeout=30.0)
    assert time.monotonic() - started < 2
    assert bus.consumers(topology.EMBEDDING_RPC.name) == 0
    assert bus.consumers("no.such.queue") == 0


def test_rpc_times_out_when_its_server_does_not_answer_in_time(bus, amqp_url):
    server = bus.rpc_server(
        topology.EMBEDDING_RPC.name, lambda request, delivery: time.sleep(3)
    ).start()
    assert wait_for(lambda: server.ready)
    assert bus.consumers(topology.EMBEDDING_RPC.name) == 1
    started = time.monotonic()
    with pytest.raises(RpcTimeout):
        bus.rpc().call(schemas.EmbedQuery(texts=["x"]), timeout=1.0)
    assert time.monotonic() - started < 5
    server.stop()


# --- streaming RPC ------------------------------------------------------------------------------


def streaming_server(bus, handler):
    server = bus.rpc_server(topology.EMBEDDING_RPC.name, handler, workers=2).start()
    assert wait_for(lambda: server.ready)
    return server


def test_a_stream_delivers_each_chunk_before_the_handler_has_finished(bus, amqp_url):
    first_read = threading.Event()

    def handler(message, delivery):
        assert delivery.stream

        def chunks():
            yield schemas.TokensGenerated(text="Hel", tokens=1)
            # The next chunk waits until the caller has read the first: proof that it streams.
            assert first_read.wait(20)
            yield schemas.TokensGenerated(text="lo", tokens=1)
            return schemas.Generated(model="m", text="Hello", tokens=2)

        return chunks()

    server = streaming_server(bus, handler)
    received = []
    for message in bus.rpc().stream(schemas.EmbedQuery(texts=["hi"]), timeout=10):
        received.append(message)
        first_read.set()
    server.stop()
    assert [type(m).__name__ for m in received] == [
        "TokensGenerated",
        "TokensGenerated",
        "Generated",
    ]
    assert "".join(m.text for m in received[:2]) == received[2].text == "Hello"


def test_a_plain_call_to_a_streaming_handler_gets_only_the_final_reply(bus, amqp_url):
    def handler(message, delivery):
        assert not delivery.stream

        def chunks():
            yield schemas.TokensGenerated(text="a", tokens=1)
            return schemas.Generated(model="m", text="a", tokens=1)

        return chunks()

    server = streaming_server(bus, handler)
    reply = bus.rpc().call(schemas.EmbedQuery(texts=["hi"]), timeout=10)
    server.stop()
    assert isinstance(reply, schemas.Generated) and reply.text == "a"


def test_a_plain_handler_answers_a_stream_with_its_one_final_reply(bus, amqp_url):
    server = streaming_server(bus, lambda m, d: schemas.Generated(model="m", text="x", tokens=1))
    [reply] = list(bus.rpc().stream(schemas.EmbedQuery(texts=["hi"]), timeout=10))
    server.stop()
    assert reply.text == "x"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (PermanentError("the model fell over", code="model_failed"), "model_failed"),
        # A cluster past its timeout mid-stream: the caller may try again (not "internal").
        (TransientError("the cluster took too long"), "unavailable"),
        (ZeroDivisionError(), "internal"),
    ],
)
def test_a_failure_mid_stream_reaches_the_caller_after_the_chunks_sent(
    bus, amqp_url, failure, code
):
    def handler(message, delivery):
        def chunks():
            yield schemas.TokensGenerated(text="a", tokens=1)
            raise failure

        return chunks()

    server = streaming_server(bus, handler)
    received = []
    with pytest.raises(RpcError) as failed:
        for message in bus.rpc().stream(schemas.EmbedQuery(texts=["hi"]), timeout=10):
            received.append(message)
    server.stop()
    assert [m.text for m in received] == ["a"]
    assert failed.value.code == code


def test_an_rpc_still_failing_transiently_after_its_retries_is_unavailable_a_bug_internal(
    bus, amqp_url
):
    def handler(message, delivery):
        if message.texts == ["busy"]:
            raise TransientError("the cluster is busy")
        raise ZeroDivisionError

    server = streaming_server(bus, handler)
    codes = []
    for texts in (["busy"], ["bug"]):
        with pytest.raises(RpcError) as failed:
            bus.rpc().call(schemas.EmbedQuery(texts=texts), timeout=30)
        codes.append(failed.value.code)
    server.stop()
    assert codes == ["unavailable", "internal"]


def test_a_stream_times_out_when_the_next_chunk_is_late(bus, amqp_url):
    release = threading.Event()

    def handler(message, delivery):
        def chunks():
            yield schemas.TokensGenerated(text="a", tokens=1)
            release.wait(20)
            return schemas.Generated(model="m", text="a", tokens=1)

        return chunks()

    server = streaming_server(bus, handler)
    received = []
    with pytest.raises(RpcTimeout):
        for message in bus.rpc().stream(schemas.EmbedQuery(texts=["hi"]), timeout=1.0):
            received.append(message)
    release.set()
    server.stop()
    assert len(received) == 1


def test_a_caller_that_stops_reading_stops_the_handler(bus, amqp_url):
    closed = threading.Event()
    produced = []

    def handler(message, delivery):
        def chunks():
            try:
                for n in range(10_000):
                    produced.append(n)
                    yield schemas.TokensGenerated(text=str(n), tokens=1)
                    time.sleep(0.01)
                return schemas.Generated(model="m", text="all", tokens=10_000)
            finally:
                closed.set()

        return chunks()

    server = streaming_server(bus, handler)
    stream = bus.rpc().stream(schemas.EmbedQuery(texts=["hi"]), timeout=10)
    assert next(stream).text == "0"
    stream.close()
    assert closed.wait(20)  # GeneratorExit inside the handler: its work stops
    server.stop()
    assert len(produced) < 10_000
    # The client still works for the next call on the same channel.
    server = streaming_server(bus, lambda m, d: schemas.Generated(model="m", text="x", tokens=1))
    assert bus.rpc().call(schemas.EmbedQuery(texts=["hi"]), timeout=10).text == "x"
    server.stop()


def revoked(sid="sid-1"):
    return schemas.AccessRevoked(sessions={sid: 1})


def test_a_broadcast_reaches_every_connected_subscriber_once_and_needs_none(bus, amqp_url):
    bus.publish(revoked("before"))  # nobody listens yet: no error, and nobody hears it later
    heard: dict[str, list] = {"a": [], "b": []}
    connected = {"a": 0, "b": 0}
    others = {name: Bus(amqp_url, f"gateway-{name}") for name in heard}
    subscribers = []
    for name, other in others.items():
        subscribers.append(
            other.subscriber(
                lambda message, delivery, name=name: heard[name].append(message),
                on_connect=lambda name=name: connected.__setitem__(name, connected[name] + 1),
            ).start()
        )
    assert wait_for(lambda: all(s.ready for s in subscribers))

    for n in range(3):
        bus.publish(revoked(f"s{n}"))
    assert wait_for(lambda: all(len(messages) == 3 for messages in heard.values()))
    time.sleep(0.3)
    for messages in heard.values():
        assert [list(m.sessions) for m in messages] == [["s0"], ["s1"], ["s2"]]
        assert all(isinstance(m, schemas.AccessRevoked) for m in messages)
    assert connected == {"a": 1, "b": 1}

    # Each subscriber's queue is its own and goes with it: nothing piles up for a gone gateway.
    assert sum(1 for name in queue_depths(amqp_url) if name.startswith("amq.gen-")) == 2
    for subscriber in subscribers:
        subscriber.stop()
    for other in others.values():
        other.close()
    assert wait_for(
        lambda: not any(name.startswith("amq.gen-") for name in queue_depths(amqp_url)), timeout=10
    )
    bus.publish(revoked("after"))  # still no error with nobody left


def test_a_subscriber_that_reconnects_binds_a_new_queue_and_says_so(bus, amqp_url):
    heard, connected = [], []
    subscriber = (
        Bus(amqp_url, "gateway")
        .subscriber(
            lambda message, delivery: heard.append(message),
            on_connect=lambda: connected.append(time.monotonic()),
        )
        .start()
    )
    assert wait_for(lambda: subscriber.ready)
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = amqp_url.rsplit("/", 1)[-1]
    subprocess.run(
        [ctl, "close_all_connections", "-p", vhost, "test"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert wait_for(lambda: len(connected) == 2 and subscriber.ready, timeout=30)
    bus.publish(revoked("later"))
    assert wait_for(lambda: [list(m.sessions) for m in heard] == [["later"]])
    subscriber.stop()
