"""Through a real RabbitMQ (a throw-away vhost): an ingest request in, batches and events out."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from chatlens.embedding_worker.handlers import Handlers
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus

BOOK_CLUB = "WhatsApp Chat with Book Club.txt"


class Inbox:
    """Collects what a queue receives, through the bus's own consumer."""

    def __init__(self) -> None:
        self.messages: list[schemas.Message] = []
        self._changed = threading.Condition()

    def __call__(self, message: schemas.Message, delivery) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 90.0) -> list[schemas.Message]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; received {self.messages!r}"[:2000])
                self._changed.wait(remaining)
            return list(self.messages)


@pytest.fixture
def worker(rabbit_url, embedder, tmp_path, fixtures_dir):
    """The worker's consumers on a fresh vhost, plus inboxes on the queues it publishes to."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for name in (BOOK_CLUB, "not-a-chat.txt"):
        shutil.copy(fixtures_dir / name, uploads / name)
    bus = Bus(rabbit_url, "embedding-worker-test")
    bus.declare()
    handlers = Handlers(bus.publish, embedder, upload_dir=uploads, batch_size=5)
    index_inbox, jobs_inbox = Inbox(), Inbox()
    consumers = [
        bus.consumer(topology.INGEST_QUEUE.name, handlers.ingest, prefetch=1, workers=1),
        bus.rpc_server(topology.EMBEDDING_RPC.name, handlers.embed_query, workers=2),
        bus.consumer(topology.INDEX_QUEUE.name, index_inbox),
        bus.consumer(topology.GATEWAY_JOBS_QUEUE.name, jobs_inbox),
    ]
    for consumer in consumers:
        consumer.start()
    deadline = time.monotonic() + 30
    while not all(c.ready for c in consumers):
        assert time.monotonic() < deadline, "consumers did not start"
        time.sleep(0.05)
    yield bus, index_inbox, jobs_inbox
    for consumer in consumers:
        consumer.stop()
    bus.close()


def ingest_request(job_id: str, filename: str) -> schemas.IngestRequested:
    return schemas.IngestRequested(
        job_id=job_id,
        org_id="org1",
        collection_id="col1",
        upload_key=filename,
        filename=filename,
        sha256="0" * 64,
        size=1,
    )


def test_an_ingest_request_ends_in_batches_on_the_index_queue(worker):
    bus, index_inbox, jobs_inbox = worker

    bus.publish(ingest_request("job-42", BOOK_CLUB))

    received = index_inbox.wait_for(
        lambda ms: any(isinstance(m, schemas.EmbeddingFinished) for m in ms)
    )
    batches = [m for m in received if isinstance(m, schemas.ChunksEmbedded)]
    finished = received[-1]
    assert isinstance(finished, schemas.EmbeddingFinished)
    assert [b.batch_no for b in batches] == list(range(finished.batches)) == [0, 1, 2]
    assert sum(len(b.messages) for b in batches) == finished.stats["messages"] == 12
    assert sum(b.vectors.rows for b in batches) == finished.stats["embedded"] == 6
    assert {b.job_id for b in batches} == {"job-42"}

    events = jobs_inbox.wait_for(
        lambda ms: sum(isinstance(m, schemas.JobProgressed) for m in ms) == 4
    )
    assert [(e.stage, e.done, e.total) for e in events] == [
        ("parsing", 12, 12),
        ("embedding", 5, 12),
        ("embedding", 10, 12),
        ("embedding", 12, 12),
    ]


def test_a_file_that_is_not_a_chat_ends_in_job_failed(worker):
    bus, index_inbox, jobs_inbox = worker

    bus.publish(ingest_request("job-43", "not-a-chat.txt"))

    [failed] = jobs_inbox.wait_for(lambda ms: len(ms) >= 1)
    assert isinstance(failed, schemas.JobFailed)
    assert (failed.job_id, failed.code) == ("job-43", "parse_failed")
    assert index_inbox.messages == []


def test_a_query_is_embedded_over_rpc(worker):
    bus, _, _ = worker

    reply = bus.rpc().call(schemas.EmbedQuery(texts=["when is the team trip?"]), timeout=60)

    assert isinstance(reply, schemas.QueryEmbedded)
    assert reply.vectors.to_array().shape == (1, 384)
